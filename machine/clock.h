/* The virtual clock and its timers (contract 4 of DESIGN.md: time is virtual).
 *
 * Devices never read host clocks: they call clock_ns() and arm timers with
 * timer_mod().  Two modes:
 *  - CLOCK_MODE_REALTIME: virtual time follows the host's monotonic clock
 *    while the VM runs and stands still while it is paused;
 *  - CLOCK_MODE_DETERMINISTIC: virtual time is derived from the retired
 *    instruction count (ns = icount << shift, plus a bias that grows when an
 *    idle CPU skips ahead to the next timer), so two runs with the same
 *    inputs see the same times.  This is what record/replay builds on.
 * RDTSC is derived from the same clock.
 *
 * The clock is driven from the vCPU thread only; it takes no locks.
 */
#ifndef VIREO_MACHINE_CLOCK_H
#define VIREO_MACHINE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Not CLOCK_REALTIME: <time.h> defines that name as a macro. */
typedef enum ClockMode {
    CLOCK_MODE_REALTIME,
    CLOCK_MODE_DETERMINISTIC,
} ClockMode;

typedef struct Clock Clock;
typedef struct Timer Timer;

typedef void (*TimerCallback)(void *opaque);

/* Where the deterministic clock reads the retired-instruction count. */
typedef uint64_t (*IcountSource)(void *opaque);

/* Serialisable part of the clock (virtual time survives a snapshot). */
typedef struct ClockState {
    int64_t offset_ns;    /* virtual = source + offset */
    uint32_t mode;        /* ClockMode */
    uint32_t icount_shift;
} ClockState;

struct Timer {
    Clock *clock;
    TimerCallback cb;
    void *opaque;
    int64_t deadline_ns;  /* -1 when not armed */
    Timer *next;          /* armed timers, sorted by deadline */
};

struct Clock {
    ClockState s;
    bool running;
    int64_t paused_at_ns;       /* virtual time frozen while paused */
    IcountSource icount;
    void *icount_opaque;
    Timer *armed;               /* sorted list, earliest first */
    Timer *due;                 /* being fired by clock_run_timers() */
};

/* `icount_shift`: in deterministic mode one instruction is 2^shift ns. */
void clock_init(Clock *c, ClockMode mode, unsigned icount_shift);
void clock_set_icount_source(Clock *c, IcountSource fn, void *opaque);

/* Virtual nanoseconds since the machine was created (starts at 0). */
int64_t clock_ns(Clock *c);

/* Pause and resume the real-time clock (no effect in deterministic mode,
 * where time only moves when instructions retire or the CPU idles). */
void clock_pause(Clock *c);
void clock_resume(Clock *c);

void timer_init(Timer *t, Clock *c, TimerCallback cb, void *opaque);
/* Arm (or re-arm) to fire when clock_ns() >= deadline_ns. */
void timer_mod(Timer *t, int64_t deadline_ns);
void timer_del(Timer *t);
bool timer_pending(const Timer *t);

/* Fire every timer expired at entry, earliest first (ties in the order
 * they were armed); a callback may re-arm or delete its own or other
 * timers.  A timer armed by a callback fires on the next call at the
 * earliest, even if already due, so this always terminates.  Not
 * re-entrant.  Returns the number fired. */
int clock_run_timers(Clock *c);

/* Earliest armed deadline, or INT64_MAX if none. */
int64_t clock_next_deadline(const Clock *c);

/* Deterministic mode, CPU idle (HLT): advance virtual time to the next
 * deadline without executing instructions.  Returns false if no timer is
 * armed (the machine can only be woken by an input event). */
bool clock_skip_to_next_deadline(Clock *c);

/* Nanoseconds of host time until the next deadline, for an idle CPU to
 * sleep in real-time mode (0 if already due, -1 if none armed). */
int64_t clock_host_wait_ns(Clock *c);

/* The host's CLOCK_MONOTONIC in ns: the one host-clock read of the
 * emulator.  Only for host-side waits (the event queue's timed wait);
 * devices must use clock_ns(). */
int64_t clock_host_ns(void);

#endif
