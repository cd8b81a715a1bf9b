/* Scatter-gather lists over guest RAM for bus-master devices (IDE
 * bus-master DMA, virtio rings and buffers).
 *
 * A device turns guest-physical ranges into host iovecs that the block
 * layer reads or writes directly (zero copy).  Only RAM qualifies (and ROM
 * for ranges the device only reads): a range that touches MMIO, a hole or
 * the end of the space is refused, so a guest cannot make a device's DMA
 * re-enter another device or reach outside guest memory.  Because the
 * data then bypasses the AddressSpace dispatcher, whoever wrote guest RAM
 * through such an iovec must report it with dma_sg_written(), so that
 * decoded code on those pages is dropped (mmu/pagetrack.h).
 */
#ifndef VIREO_HW_DMA_H
#define VIREO_HW_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mmu/addrspace.h"

typedef struct DmaSg {
    struct iovec *iov;
    uint64_t *gpa;          /* guest address of each iovec */
    int n, cap;
    uint64_t bytes;         /* sum of the lengths */
} DmaSg;

void dma_sg_init(DmaSg *sg);
void dma_sg_free(DmaSg *sg);
/* Append [gpa, gpa + len), split where RAM regions meet.  `dev_writes`:
 * the device will write the range (so ROM does not qualify).  Returns 0,
 * -EFAULT if part of the range is not RAM (nothing is appended), -E2BIG
 * past `max_iov` iovecs, or -ENOMEM. */
int dma_sg_add(DmaSg *sg, AddressSpace *as, uint64_t gpa, uint64_t len,
               bool dev_writes, int max_iov);
/* Report the first `len` bytes of the list as written by the device. */
void dma_sg_written(const DmaSg *sg, AddressSpace *as, uint64_t len);

/* A host pointer to [gpa, gpa + len) if it lies inside one RAM region
 * (or ROM when !dev_writes), else NULL.  For ring structures. */
uint8_t *dma_ram_ptr(AddressSpace *as, uint64_t gpa, uint64_t len,
                     bool dev_writes);

/* Append the bytes [off, off + len) of `src` to `dst` (same host
 * memory, no copy).  Returns 0, -EINVAL if src is shorter, or -ENOMEM. */
int dma_sg_slice(DmaSg *dst, const DmaSg *src, uint64_t off, uint64_t len);

/* Copy between a flat buffer and the list; return the bytes copied. */
size_t dma_sg_from_buf(const DmaSg *sg, size_t off, const void *buf, size_t len);
size_t dma_sg_to_buf(const DmaSg *sg, size_t off, void *buf, size_t len);

#endif
