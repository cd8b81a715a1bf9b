/* Scatter-gather lists over guest RAM (see hw/dma.h). */
#include "hw/dma.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void dma_sg_init(DmaSg *sg)
{
    memset(sg, 0, sizeof(*sg));
}

void dma_sg_free(DmaSg *sg)
{
    free(sg->iov);
    free(sg->gpa);
    dma_sg_init(sg);
}

static bool region_ok(const Region *r, bool dev_writes)
{
    return r && r->host &&
           (r->kind == REGION_RAM || (r->kind == REGION_ROM && !dev_writes));
}

uint8_t *dma_ram_ptr(AddressSpace *as, uint64_t gpa, uint64_t len,
                     bool dev_writes)
{
    if (len == 0 || gpa + len < gpa)
        return NULL;
    const Region *r = as_lookup(as, gpa);
    if (!region_ok(r, dev_writes) || gpa + len - r->base > r->length)
        return NULL;
    return r->host + (gpa - r->base);
}

static int grow(DmaSg *sg, int max_iov)
{
    if (sg->n < sg->cap)
        return 0;
    if (sg->n >= max_iov)
        return -E2BIG;
    int cap = sg->cap ? sg->cap * 2 : 8;
    if (cap > max_iov)
        cap = max_iov;
    struct iovec *iov = realloc(sg->iov, (size_t)cap * sizeof(*iov));
    if (!iov)
        return -ENOMEM;
    sg->iov = iov;
    uint64_t *gpa = realloc(sg->gpa, (size_t)cap * sizeof(*gpa));
    if (!gpa)
        return -ENOMEM;
    sg->gpa = gpa;
    sg->cap = cap;
    return 0;
}

int dma_sg_add(DmaSg *sg, AddressSpace *as, uint64_t gpa, uint64_t len,
               bool dev_writes, int max_iov)
{
    int n0 = sg->n;
    uint64_t bytes0 = sg->bytes;

    if (gpa + len < gpa)
        return -EFAULT;
    while (len) {
        const Region *r = as_lookup(as, gpa);
        if (!region_ok(r, dev_writes))
            goto fault;
        uint64_t avail = r->length - (gpa - r->base);
        uint64_t take = len < avail ? len : avail;
        /* Merge with the previous piece when host memory continues. */
        if (sg->n > n0) {
            struct iovec *last = &sg->iov[sg->n - 1];
            if ((uint8_t *)last->iov_base + last->iov_len ==
                    r->host + (gpa - r->base) &&
                sg->gpa[sg->n - 1] + last->iov_len == gpa) {
                last->iov_len += take;
                goto next;
            }
        }
        int rc = grow(sg, max_iov);
        if (rc) {
            sg->n = n0;
            sg->bytes = bytes0;
            return rc;
        }
        sg->iov[sg->n].iov_base = r->host + (gpa - r->base);
        sg->iov[sg->n].iov_len = take;
        sg->gpa[sg->n] = gpa;
        sg->n++;
next:
        sg->bytes += take;
        gpa += take;
        len -= take;
    }
    return 0;
fault:
    sg->n = n0;
    sg->bytes = bytes0;
    return -EFAULT;
}

int dma_sg_slice(DmaSg *dst, const DmaSg *src, uint64_t off, uint64_t len)
{
    if (off > src->bytes || len > src->bytes - off)
        return -EINVAL;
    for (int i = 0; i < src->n && len; i++) {
        uint64_t il = src->iov[i].iov_len;
        if (off >= il) {
            off -= il;
            continue;
        }
        uint64_t take = il - off < len ? il - off : len;
        int rc = grow(dst, INT32_MAX);
        if (rc)
            return rc;
        dst->iov[dst->n].iov_base = (uint8_t *)src->iov[i].iov_base + off;
        dst->iov[dst->n].iov_len = take;
        dst->gpa[dst->n] = src->gpa[i] + off;
        dst->n++;
        dst->bytes += take;
        len -= take;
        off = 0;
    }
    return 0;
}

void dma_sg_written(const DmaSg *sg, AddressSpace *as, uint64_t len)
{
    if (!as->code_pages)
        return;
    for (int i = 0; i < sg->n && len; i++) {
        uint64_t l = sg->iov[i].iov_len < len ? sg->iov[i].iov_len : len;
        pagetrack_written(as->code_pages, sg->gpa[i], l);
        len -= l;
    }
}

size_t dma_sg_from_buf(const DmaSg *sg, size_t off, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t done = 0;

    for (int i = 0; i < sg->n && done < len; i++) {
        size_t il = sg->iov[i].iov_len;
        if (off >= il) {
            off -= il;
            continue;
        }
        size_t n = il - off < len - done ? il - off : len - done;
        memcpy((uint8_t *)sg->iov[i].iov_base + off, p + done, n);
        done += n;
        off = 0;
    }
    return done;
}

size_t dma_sg_to_buf(const DmaSg *sg, size_t off, void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t done = 0;

    for (int i = 0; i < sg->n && done < len; i++) {
        size_t il = sg->iov[i].iov_len;
        if (off >= il) {
            off -= il;
            continue;
        }
        size_t n = il - off < len - done ? il - off : len - done;
        memcpy(p + done, (uint8_t *)sg->iov[i].iov_base + off, n);
        done += n;
        off = 0;
    }
    return done;
}
