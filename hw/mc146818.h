/* Motorola MC146818A real-time clock and the PC's 128 bytes of CMOS, at
 * ports 0x70 (index; bit 7 masks NMI) and 0x71 (data).
 *
 * Wiring, for the board:
 *   rtc = mc146818_new(io, &clock, irq_line(i8259_pair_set_irq, pic, 8),
 *                      base);  base = the host's time(NULL) once at start-up,
 *                      or a fixed value in deterministic mode;
 *   then mc146818_set_cmos() for what SeaBIOS reads (memory sizes at
 *   0x34/0x35 and 0x5b-0x5d, boot order 0x3d/0x38, ...);
 *   the NMI logic asks mc146818_nmi_masked();
 *   snapshots: state_save/state_load(&mc146818_state_desc, &rtc->s, rtc).
 *
 * The device never reads a host clock: the time it shows is `base` plus
 * the virtual time elapsed since it was created.  Byte 0x32 is the century
 * (the IBM PC/AT convention, which QEMU's ACPI FADT also names); the RTC
 * keeps it with the year.
 */
#ifndef VIREO_HW_MC146818_H
#define VIREO_HW_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/clock.h"
#include "machine/irq.h"
#include "machine/state.h"
#include "mmu/addrspace.h"

#define MC146818_CENTURY 0x32

/* Time runs on the divider chain: `q` counts 32.768 kHz ticks since
 * `div_ns`, when the chain last left reset; update cycle k (k >= 1) comes
 * at q = 16384 + (k - 1) * 32768, half a second after the chain starts. */
typedef struct MC146818State {
    uint8_t cmos[128];      /* registers 0x00-0x0D, then RAM */
    uint8_t index;          /* port 0x70 bits 6-0 */
    uint8_t nmi_masked;     /* port 0x70 bit 7 */
    uint8_t dow_ref;        /* day of week shown at update upd_ref */
    int64_t div_ns;         /* virtual time the divider chain started */
    int64_t secs_ref;       /* time (Unix seconds) shown at update upd_ref */
    uint64_t upd_ref;
    uint64_t upd_shown;     /* update count the time registers show */
    uint64_t sync_q;        /* divider ticks already folded into reg. C */
    uint64_t alarm_upd;     /* next update matching the alarm, or ~0 */
} MC146818State;

typedef struct MC146818 {
    MC146818State s;
    IrqLine irq;            /* IRQ8 */
    Timer timer;            /* next flag that can raise IRQ8 */
    Clock *clock;
    AddressSpace *io;
    int irq_level;          /* level last driven, -1: unknown */
} MC146818;

extern const StateDesc mc146818_state_desc;

/* Maps ports 0x70-0x71.  `base_unix_secs` is the wall-clock time shown at
 * the current virtual time.  NULL if the ports are taken or memory runs
 * out. */
MC146818 *mc146818_new(AddressSpace *io, Clock *clock, IrqLine irq8,
                       int64_t base_unix_secs);
void mc146818_free(MC146818 *rtc);
/* The RESET pin: interrupt enables and flags cleared, IRQ8 lowered; time
 * and RAM survive (they are battery-backed).  Also clears the NMI mask
 * and index, which belong to the chipset's port 0x70. */
void mc146818_reset(MC146818 *rtc);

/* Set or read a CMOS byte (0..127) as the guest would, without side
 * effects on reads (register C is not cleared). */
void mc146818_set_cmos(MC146818 *rtc, unsigned index, uint8_t value);
uint8_t mc146818_get_cmos(MC146818 *rtc, unsigned index);

bool mc146818_nmi_masked(const MC146818 *rtc);

#endif
