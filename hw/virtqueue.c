/* Split virtqueues (Virtio 1.1, 2.6): taking available descriptor chains
 * and returning used ones, with every guest-supplied number checked (see
 * hw/virtio_pci.h).
 *
 * Ring memory is read and written through host pointers that
 * dma_ram_ptr() hands out only for RAM, never through the dispatcher: a
 * ring placed over MMIO (even over the device's own notify register)
 * would otherwise turn a ring access into a device access.  Writes to the
 * used ring and to buffers are reported to the code-page tracker.  The
 * avail index is read with acquire and the used index written with
 * release ordering, since with KVM another vCPU may be producing.
 */
#include "hw/virtio_pci.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#define VQ_MAX_IOV  4096        /* iovecs per chain (host pieces) */

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)ld16(p) | (uint32_t)ld16(p + 2) << 16;
}

static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
    st16(p, (uint16_t)v);
    st16(p + 2, (uint16_t)(v >> 16));
}

/* A host pointer to ring bytes, or NULL with the device marked broken. */
static uint8_t *ring(VirtioPci *vp, uint64_t gpa, uint64_t len, bool write,
                     const char *what)
{
    uint8_t *p = dma_ram_ptr(vp->mem, gpa, len, write);

    if (!p)
        virtio_pci_set_broken(vp, "%s at 0x%" PRIx64 " is not in RAM", what, gpa);
    return p;
}

/* Walk the chain starting at `head` into e->out and e->in. */
static int walk_chain(VirtioPci *vp, const VirtqState *q, uint16_t head,
                      VirtqElement *e)
{
    uint64_t table = q->desc;
    uint32_t tsize = q->size, max = q->size, count = 0, i = head;
    bool indirect = false, seen_in = false;

    for (;;) {
        if (i >= tsize) {
            virtio_pci_set_broken(vp, "descriptor index %u out of range (%u)",
                                  i, tsize);
            return -EIO;
        }
        if (++count > max) {
            virtio_pci_set_broken(vp, "descriptor chain longer than %u "
                                  "(a loop?)", max);
            return -EIO;
        }
        const uint8_t *d = ring(vp, table + 16ull * i, 16, false, "descriptor");
        if (!d)
            return -EIO;
        uint64_t addr = ld64(d);
        uint32_t len = ld32(d + 8);
        uint16_t flags = ld16(d + 12), next = ld16(d + 14);

        if (flags & VIRTQ_DESC_F_INDIRECT) {
            if (!virtio_has_feature(vp, VIRTIO_RING_F_INDIRECT_DESC) ||
                indirect || (flags & VIRTQ_DESC_F_NEXT) || len == 0 ||
                len % 16 || len / 16 > VIRTIO_INDIRECT_MAX) {
                virtio_pci_set_broken(vp, "bad indirect descriptor (flags %#x, "
                                      "len %u)", flags, len);
                return -EIO;
            }
            indirect = true;
            table = addr;
            tsize = max = len / 16;
            count = 0;
            i = 0;
            continue;
        }
        if (len) {
            bool w = flags & VIRTQ_DESC_F_WRITE;
            if (!w && seen_in) {
                virtio_pci_set_broken(vp, "device-readable descriptor after a "
                                      "device-writable one");
                return -EIO;
            }
            seen_in |= w;
            int rc = dma_sg_add(w ? &e->in : &e->out, vp->mem, addr, len, w,
                                VQ_MAX_IOV);
            if (rc) {
                virtio_pci_set_broken(vp, "buffer 0x%" PRIx64 "+%u %s", addr,
                                      len, rc == -EFAULT ? "is not in RAM" :
                                      "has too many pieces");
                return -EIO;
            }
        }
        if (!(flags & VIRTQ_DESC_F_NEXT))
            return 0;
        i = next;
    }
}

void virtq_element_free(VirtqElement *e)
{
    if (!e)
        return;
    dma_sg_free(&e->out);
    dma_sg_free(&e->in);
    free(e);
}

int virtq_pop(VirtioPci *vp, unsigned qi, VirtqElement **out)
{
    *out = NULL;
    if (vp->s->broken)
        return -EIO;
    if (!virtio_queue_usable(vp, qi))
        return 0;
    VirtqState *q = &vp->s->vq[qi];
    const uint8_t *avail = ring(vp, q->avail, 4 + 2ull * q->size, false,
                                "available ring");
    if (!avail)
        return -EIO;
    uint16_t idx = ld16(avail + 2);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(idx - q->last_avail);
    if (pending == 0)
        return 0;
    if (pending > q->size) {
        virtio_pci_set_broken(vp, "available index %u is %u ahead of the "
                              "device (queue size %u)", idx, pending, q->size);
        return -EIO;
    }
    uint16_t head = ld16(avail + 4 + 2 * (q->last_avail % q->size));
    VirtqElement *e = calloc(1, sizeof(*e));
    if (!e)
        return 0;                   /* host trouble: try at the next kick */
    e->head = head;
    dma_sg_init(&e->out);
    dma_sg_init(&e->in);
    if (walk_chain(vp, q, head, e)) {
        virtq_element_free(e);
        return -EIO;
    }
    q->last_avail++;
    /* Ask for a kick as soon as the driver adds past what we took. */
    if (virtio_has_feature(vp, VIRTIO_RING_F_EVENT_IDX)) {
        uint8_t *ev = ring(vp, q->used + 4 + 8ull * q->size, 2, true,
                           "used ring");
        if (!ev) {
            virtq_element_free(e);
            return -EIO;
        }
        st16(ev, q->last_avail);
        if (vp->mem->code_pages)
            pagetrack_written(vp->mem->code_pages, q->used + 4 + 8ull * q->size, 2);
    }
    *out = e;
    return 1;
}

void virtq_push(VirtioPci *vp, unsigned qi, const VirtqElement *e, uint32_t len)
{
    if (!virtio_queue_usable(vp, qi))
        return;
    VirtqState *q = &vp->s->vq[qi];
    uint64_t slot = q->used + 4 + 8ull * (q->used_idx % q->size);
    uint8_t *u = ring(vp, slot, 8, true, "used ring");
    uint8_t *ui = ring(vp, q->used + 2, 2, true, "used ring");

    if (!u || !ui)
        return;
    if (len > e->in.bytes)
        len = (uint32_t)e->in.bytes;
    dma_sg_written(&e->in, vp->mem, len);
    st32(u, e->head);
    st32(u + 4, len);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    q->used_idx++;
    st16(ui, q->used_idx);
    if (vp->mem->code_pages) {
        pagetrack_written(vp->mem->code_pages, slot, 8);
        pagetrack_written(vp->mem->code_pages, q->used + 2, 2);
    }
}

void virtq_notify(VirtioPci *vp, unsigned qi)
{
    if (!virtio_queue_usable(vp, qi))
        return;
    VirtqState *q = &vp->s->vq[qi];
    const uint8_t *avail = ring(vp, q->avail, 6 + 2ull * q->size, false,
                                "available ring");
    bool need;

    if (!avail)
        return;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (virtio_has_feature(vp, VIRTIO_RING_F_EVENT_IDX)) {
        /* 2.6.7.2: interrupt when used_event lies in (old, new]. */
        uint16_t event = ld16(avail + 4 + 2 * q->size);
        uint16_t nw = q->used_idx, old = q->signalled_used;
        need = !q->signalled_valid ||
               (uint16_t)(nw - event - 1) < (uint16_t)(nw - old);
        q->signalled_used = nw;
        q->signalled_valid = 1;
    } else {
        need = !(ld16(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    if (need) {
        vp->s->isr |= VIRTIO_ISR_QUEUE;
        virtio_pci_update_irq(vp);
    }
}

