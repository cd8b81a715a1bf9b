/* What hw/lapic.c and hw/lapic_timer.c share; not for other users. */
#ifndef VIREO_HW_LAPIC_INTERNAL_H
#define VIREO_HW_LAPIC_INTERNAL_H

#include <stdint.h>

#include "hw/lapic.h"

/* LVT bits (SDM figure 11-8). */
#define LVT_MASKED (1u << 16)
#define LVT_LEVEL (1u << 15)
#define LVT_REMOTE_IRR (1u << 14)
#define LVT_DM(v) (((v) >> 8) & 7)
#define TIMER_MODE(v) (((v) >> 17) & 3)
enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };

/* hw/lapic.c: raise local source `n` (LVT_*) as its entry says. */
void lapic_lvt_fire(Lapic *a, int n);

/* hw/lapic_timer.c */
/* Process an expiry due at `now` (one interrupt however late). */
void lapic_timer_sync(Lapic *a, int64_t now);
/* (Re)arm the Timer for the next expiry of the current mode. */
void lapic_timer_arm(Lapic *a);
void lapic_timer_cb(void *opaque);
/* Counting stopped and the TSC deadline disarmed (RESET, INIT, mode
 * changes to and from TSC-deadline). */
void lapic_timer_stop(LapicState *s);
/* Register accesses: initial count (0x380), divide configuration (0x3E0),
 * LVT timer (0x320, already masked to its writable bits), current count
 * (0x390). */
void lapic_timer_write_initial(Lapic *a, uint32_t v);
void lapic_timer_write_dcr(Lapic *a, uint32_t v);
void lapic_timer_write_lvt(Lapic *a, uint32_t v);
uint32_t lapic_timer_read_current(Lapic *a);

#endif
