/* Disassembly of guest code for `-d in_asm`, with Capstone.  Capstone is
 * for logs and debugging only, never the decoder on the hot path. */
#ifndef VIREO_CPU_DISAS_H
#define VIREO_CPU_DISAS_H

#include <stddef.h>
#include <stdint.h>

/* Log one instruction at `address` decoded for Cpu.mode `mode`. */
void disas_log(const uint8_t *bytes, size_t len, uint64_t address, uint32_t mode);

/* Disassemble one instruction into buf ("mnemonic operands"); returns its
 * length as Capstone sees it, or 0 if Capstone rejects the bytes. */
size_t disas_one(const uint8_t *bytes, size_t len, uint64_t address,
                 uint32_t mode, char *buf, size_t buflen);

#endif
