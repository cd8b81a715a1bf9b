/* The soft TLB (see tlb.h). */
#include "mmu/tlb.h"

#include <string.h>

static void entry_clear(TlbEntry *e)
{
    e->tag[0] = e->tag[1] = e->tag[2] = TLB_INVALID;
    e->addend = 0;
    e->ram = false;
    e->global = false;
}

static bool entry_valid(const TlbEntry *e)
{
    return e->tag[0] != TLB_INVALID || e->tag[1] != TLB_INVALID ||
           e->tag[2] != TLB_INVALID;
}

static uint64_t entry_page(const TlbEntry *e)
{
    for (int k = 0; k < 3; k++)
        if (e->tag[k] != TLB_INVALID)
            return e->tag[k];
    return TLB_INVALID;
}

void tlb_flush_all(Tlb *t)
{
    for (int p = 0; p < TLB_PRIVILEGES; p++) {
        for (unsigned i = 0; i < TLB_SIZE; i++)
            entry_clear(&t->entries[p][i]);
        for (unsigned i = 0; i < TLB_VICTIMS; i++)
            entry_clear(&t->victims[p][i]);
    }
}

void tlb_flush_nonglobal(Tlb *t)
{
    for (int p = 0; p < TLB_PRIVILEGES; p++) {
        for (unsigned i = 0; i < TLB_SIZE; i++)
            if (!t->entries[p][i].global)
                entry_clear(&t->entries[p][i]);
        for (unsigned i = 0; i < TLB_VICTIMS; i++)
            if (!t->victims[p][i].global)
                entry_clear(&t->victims[p][i]);
    }
}

void tlb_flush_page(Tlb *t, uint64_t linear)
{
    uint64_t page = linear & ~0xfffull;
    for (int p = 0; p < TLB_PRIVILEGES; p++) {
        TlbEntry *e = &t->entries[p][(linear >> 12) & (TLB_SIZE - 1)];
        if (entry_page(e) == page)
            entry_clear(e);
        for (unsigned i = 0; i < TLB_VICTIMS; i++)
            if (entry_page(&t->victims[p][i]) == page)
                entry_clear(&t->victims[p][i]);
    }
}

TlbEntry *tlb_lookup_victim(Tlb *t, int priv, uint64_t linear, int kind)
{
    uint64_t page = linear & ~0xfffull;
    TlbEntry *slot = &t->entries[priv][(linear >> 12) & (TLB_SIZE - 1)];
    for (unsigned i = 0; i < TLB_VICTIMS; i++) {
        TlbEntry *v = &t->victims[priv][i];
        if (v->tag[kind] == page) {
            TlbEntry tmp = *slot;
            *slot = *v;
            *v = tmp;
            t->victim_hits++;
            return slot;
        }
    }
    t->misses++;
    return NULL;
}

TlbEntry *tlb_fill(Tlb *t, int priv, uint64_t linear, const TlbFill *f)
{
    uint64_t page = linear & ~0xfffull;
    TlbEntry *slot = &t->entries[priv][(linear >> 12) & (TLB_SIZE - 1)];
    if (entry_valid(slot) && entry_page(slot) != page) {
        t->victims[priv][t->victim_next[priv]] = *slot;
        t->victim_next[priv] = (t->victim_next[priv] + 1) % TLB_VICTIMS;
    }
    /* The same page may sit among the victims with stale rights. */
    for (unsigned i = 0; i < TLB_VICTIMS; i++)
        if (entry_page(&t->victims[priv][i]) == page)
            entry_clear(&t->victims[priv][i]);
    slot->tag[TLB_READ] = f->read ? page : TLB_INVALID;
    slot->tag[TLB_WRITE] = f->write ? page : TLB_INVALID;
    slot->tag[TLB_EXEC] = f->exec ? page : TLB_INVALID;
    slot->phys = f->phys;
    slot->ram = f->host != 0;
    slot->addend = f->host - (uintptr_t)page;
    slot->global = f->global;
    return slot;
}
