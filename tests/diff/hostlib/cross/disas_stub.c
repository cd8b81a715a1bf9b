/* Cross-build shim for tests/diff/hostlib/cross/aarch64.sh: Capstone is not
 * installed for arm64, and the harnesses never disassemble (cpu/disas.c
 * stands aside). */
#include "cpu/disas.h"

void disas_log(const uint8_t *bytes, size_t len, uint64_t address, uint32_t mode)
{
    (void)bytes; (void)len; (void)address; (void)mode;
}

size_t disas_one(const uint8_t *bytes, size_t len, uint64_t address,
                 uint32_t mode, char *buf, size_t buflen)
{
    (void)bytes; (void)len; (void)address; (void)mode; (void)buf; (void)buflen;
    return 0;
}
