/* The soft TLB: a per-vCPU cache of linear-to-physical translations.
 *
 * Direct-mapped, 256 entries for supervisor and 256 for user accesses (a
 * page's rights differ by privilege), each with separate read, write and
 * execute tags, so one lookup answers "may I do this access here?".  RAM
 * pages carry a host addend (host address = linear + addend) so hits reach
 * memory without the dispatcher.  Read and write tags are only set for
 * RAM pages (cpu/mem.c), so a tag hit means the addend is valid (the JIT's
 * inline accesses rely on it); a write tag only for writable, already-
 * dirty pages, and while the JIT is on not for pages holding code.  ROM,
 * MMIO and pages needing a D-bit update keep accesses on the slow path.
 * An 8-entry victim TLB per privilege catches conflicts.  Stores to code
 * pages are caught by the AddressSpace's page tracker.
 */
#ifndef VIREO_MMU_TLB_H
#define VIREO_MMU_TLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_VICTIMS 8
#define TLB_INVALID (~0ull)

enum { TLB_SUPERVISOR, TLB_USER, TLB_PRIVILEGES };
enum { TLB_READ, TLB_WRITE, TLB_EXEC };

typedef struct TlbEntry {
    uint64_t tag[3];       /* page-aligned linear address per access kind,
                              or TLB_INVALID */
    uint64_t phys;         /* physical address of the 4 KiB frame */
    uintptr_t addend;      /* if ram: host = linear + addend */
    bool ram;              /* the frame is RAM reachable through addend */
    bool global;
} TlbEntry;

typedef struct Tlb {
    TlbEntry entries[TLB_PRIVILEGES][TLB_SIZE];
    TlbEntry victims[TLB_PRIVILEGES][TLB_VICTIMS];
    unsigned victim_next[TLB_PRIVILEGES];
    uint64_t hits, victim_hits, misses;
} Tlb;

void tlb_flush_all(Tlb *t);
/* CR3 reload: drop everything but global entries. */
void tlb_flush_nonglobal(Tlb *t);
/* INVLPG: drop the page, global or not, at both privileges. */
void tlb_flush_page(Tlb *t, uint64_t linear);

/* The entry allowing `kind` at `linear`, or NULL (walk and tlb_fill). */
static inline TlbEntry *tlb_lookup(Tlb *t, int priv, uint64_t linear, int kind)
{
    uint64_t page = linear & ~0xfffull;
    TlbEntry *e = &t->entries[priv][(linear >> 12) & (TLB_SIZE - 1)];
    if (e->tag[kind] == page) {
        t->hits++;
        return e;
    }
    return NULL;
}

/* Second chance: look in the victim TLB and swap a hit into the main one. */
TlbEntry *tlb_lookup_victim(Tlb *t, int priv, uint64_t linear, int kind);

typedef struct TlbFill {
    uint64_t phys;           /* frame */
    uintptr_t host;          /* host address of the frame if RAM, else 0 */
    bool read, write, exec;  /* rights for this privilege, after WP and D */
    bool global;
} TlbFill;

/* Install a translation; the entry it displaces moves to the victims. */
TlbEntry *tlb_fill(Tlb *t, int priv, uint64_t linear, const TlbFill *f);

#endif
