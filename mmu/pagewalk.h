/* The page-table walker (SDM Vol. 3 ch. 4): 32-bit paging with PSE and
 * PSE-36, PAE paging, and 4-level paging.
 *
 * It lives in mmu/ and knows nothing of the CPU: the caller passes the
 * control-register bits and the kind of access, and gets a physical address
 * or a page-fault error code.  Accessed and dirty bits are written back
 * through the AddressSpace, like any other store (so a page-table page that
 * holds code is still tracked).
 */
#ifndef VIREO_MMU_PAGEWALK_H
#define VIREO_MMU_PAGEWALK_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/addrspace.h"

typedef enum PagingMode {
    PAGING_NONE,     /* CR0.PG = 0 */
    PAGING_32,       /* 2-level, 4 KiB and (CR4.PSE) 4 MiB pages */
    PAGING_PAE,      /* 3-level, 4 KiB and 2 MiB pages */
    PAGING_4LEVEL,   /* long mode: 4 KiB, 2 MiB and (gb_pages) 1 GiB pages */
} PagingMode;

typedef struct PagingParams {
    PagingMode mode;
    uint64_t cr3;
    bool pse;          /* CR4.PSE (32-bit paging only) */
    bool pge;          /* CR4.PGE: honour the G bit */
    bool nxe;          /* EFER.NXE: bit 63 is XD instead of reserved */
    bool wp;           /* CR0.WP: supervisor writes obey R/W */
    bool gb_pages;     /* 1 GiB pages exist (CPUID 80000001h EDX bit 26) */
    unsigned phys_bits;/* MAXPHYADDR: higher address bits are reserved */
} PagingParams;

/* Page-fault error code bits (SDM Vol. 3 4.7). */
enum {
    PF_PRESENT = 1u << 0,   /* 0: not present; 1: protection violation */
    PF_WRITE = 1u << 1,
    PF_USER = 1u << 2,
    PF_RSVD = 1u << 3,
    PF_FETCH = 1u << 4,
};

/* Kind of access. */
enum { WALK_READ = 0, WALK_WRITE = 1, WALK_FETCH = 2 };

typedef struct PageWalk {
    uint64_t phys;        /* physical address of the linear address */
    uint64_t page_base;   /* physical address of its 4 KiB frame */
    uint64_t page_size;   /* 4 KiB, 2/4 MiB or 1 GiB */
    bool writable;        /* R/W at every level (ignoring WP) */
    bool user;            /* U/S at every level */
    bool executable;      /* no XD at any level (when NXE) */
    bool global;          /* G in the final entry, with CR4.PGE */
    bool dirty;           /* D in the final entry (after this walk) */
    uint32_t error_code;  /* on fault */
} PageWalk;

/* Translate `linear` for an access of `kind` at user privilege (`user`:
 * CPL 3 and not an implicit supervisor access).  Sets A bits on success
 * and D on a successful write.  Returns 0, or -1 with w->error_code set
 * (the caller raises #PF and loads CR2). */
int pagewalk(AddressSpace *mem, const PagingParams *p, uint64_t linear,
             int kind, bool user, PageWalk *w);

#endif
