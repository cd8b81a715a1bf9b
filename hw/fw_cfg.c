/* QEMU's fw_cfg device, I/O port flavour (see hw/fw_cfg.h).
 *
 * Source: QEMU's docs/specs/fw_cfg.rst (the guest-visible interface):
 *  - selector: 16-bit little-endian write at 0x510; it sets the data
 *    offset to 0.  Bit 14 was the write channel and is ignored; bit 15
 *    selects the architecture-specific range.
 *  - data: 8-bit at 0x511; each read returns the next byte; past the end
 *    of the item reads return 0 (we also log them: firmware reading past
 *    an item is usually a bug worth seeing).  Data-port writes are
 *    ignored since QEMU 2.4.
 *  - ID (key 1): bit 0 traditional interface, bit 1 DMA.
 *  - file directory (key 0x19): be32 count, then 64-byte entries {be32
 *    size, be16 select, be16 reserved, char name[56]}; files have keys
 *    from 0x20.  QEMU lists them sorted by name, keys in that order.
 *  - DMA: a 64-bit big-endian address register at 0x514 (high half) and
 *    0x518 (low half); writing the low half starts the operation, and
 *    the register reads back 0 after it, so a 32-bit guest writes only
 *    the low half.  Reading it returns "QEMU CFG".  The address names a
 *    FWCfgDmaAccess {be32 control, be32 length, be64 address}: select
 *    (bit 3, key in bits 31:16) first, then read (bit 1) wins over write
 *    (bit 4), which wins over skip (bit 2).  The device writes control
 *    back as 0, or with the error bit (0) on failure.
 *
 * Every guest-supplied address and length is checked before any byte
 * moves: the access structure and the buffer must lie wholly in RAM or
 * ROM of the memory AddressSpace (no holes, no device registers, no
 * wrap-around); anything else fails with the error bit and changes
 * nothing else.  Transfers are synchronous, so completion is immediate.
 */
#include "hw/fw_cfg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define FW_CFG_ENTRY_MASK   ((uint16_t)~(FW_CFG_WRITE_CHANNEL | FW_CFG_ARCH_LOCAL))
#define DIR_ENTRY_SIZE      64
#define DMA_ACCESS_SIZE     16
#define DMA_CHUNK           4096

static const StateField fw_cfg_fields[] = {
    STATE_U16(FwCfgState, cur_key),
    STATE_U32(FwCfgState, cur_offset),
    STATE_U32(FwCfgState, dma_addr_hi),
    STATE_END
};

static int fw_cfg_post_load(void *state, void *opaque);

const StateDesc fw_cfg_state_desc = {
    .name = "fw_cfg", .version = 1, .size = sizeof(FwCfgState),
    .fields = fw_cfg_fields, .post_load = fw_cfg_post_load,
};

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

/* ---- items -------------------------------------------------------------- */

static FwCfgItem *find_item(const FwCfg *fw, uint16_t key)
{
    for (size_t i = 0; i < fw->nitems; i++)
        if (fw->items[i].key == key)
            return &fw->items[i];
    return NULL;
}

/* Point the data cache at what `key` selects (nothing if no such item). */
static void select_key(FwCfg *fw, uint16_t key)
{
    uint16_t k = key & (uint16_t)~FW_CFG_WRITE_CHANNEL;
    const FwCfgItem *it;

    fw->cur_data = NULL;
    fw->cur_len = 0;
    if (!(k & FW_CFG_ARCH_LOCAL) && k >= FW_CFG_FILE_FIRST &&
        (size_t)(k - FW_CFG_FILE_FIRST) < fw->nfiles) {
        const FwCfgFile *f = &fw->files[k - FW_CFG_FILE_FIRST];
        fw->cur_data = f->data;
        fw->cur_len = f->len;
    } else if ((it = find_item(fw, k)) != NULL) {
        fw->cur_data = it->data;
        fw->cur_len = it->len;
    }
    /* An absent key is not an error by itself: firmware probes optional
     * items and reads them as empty (that read is logged). */
}

static void do_select(FwCfg *fw, uint16_t key)
{
    fw->s.cur_key = key;
    fw->s.cur_offset = 0;
    select_key(fw, key);
}

/* Store an item without the reserved-key checks (for our own items). */
static int set_item(FwCfg *fw, uint16_t key, const void *data, size_t len)
{
    FwCfgItem *it = find_item(fw, key);
    uint8_t *copy;

    if (len > UINT32_MAX)
        return -EINVAL;
    copy = malloc(len ? len : 1);
    if (!copy)
        return -ENOMEM;
    if (len)
        memcpy(copy, data, len);
    if (!it) {
        if (fw->nitems == fw->cap_items) {
            size_t cap = fw->cap_items ? 2 * fw->cap_items : 32;
            FwCfgItem *grown = realloc(fw->items, cap * sizeof(*grown));
            if (!grown) {
                free(copy);
                return -ENOMEM;
            }
            fw->items = grown;
            fw->cap_items = cap;
        }
        it = &fw->items[fw->nitems++];
        it->key = key;
    } else {
        free(it->data);
    }
    it->data = copy;
    it->len = (uint32_t)len;
    /* Replacing the selected item must not leave a dangling cache. */
    select_key(fw, fw->s.cur_key);
    return 0;
}

int fw_cfg_add_bytes(FwCfg *fw, uint16_t key, const void *data, size_t len)
{
    uint16_t k = key & FW_CFG_ENTRY_MASK;

    if ((key & FW_CFG_WRITE_CHANNEL) || key == FW_CFG_SIGNATURE ||
        key == FW_CFG_ID || key == FW_CFG_FILE_DIR ||
        (!(key & FW_CFG_ARCH_LOCAL) && k >= FW_CFG_FILE_FIRST) ||
        (len && !data))
        return -EINVAL;
    return set_item(fw, key, data, len);
}

int fw_cfg_add_u16(FwCfg *fw, uint16_t key, uint16_t value)
{
    uint8_t b[2] = { (uint8_t)value, (uint8_t)(value >> 8) };
    return fw_cfg_add_bytes(fw, key, b, sizeof(b));
}

int fw_cfg_add_u32(FwCfg *fw, uint16_t key, uint32_t value)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(value >> (8 * i));
    return fw_cfg_add_bytes(fw, key, b, sizeof(b));
}

int fw_cfg_add_u64(FwCfg *fw, uint16_t key, uint64_t value)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(value >> (8 * i));
    return fw_cfg_add_bytes(fw, key, b, sizeof(b));
}

/* Rebuild the directory item from the sorted file list. */
static int rebuild_dir(FwCfg *fw)
{
    size_t len = 4 + fw->nfiles * DIR_ENTRY_SIZE;
    uint8_t *dir = calloc(1, len);
    int r;

    if (!dir)
        return -ENOMEM;
    put_be32(dir, (uint32_t)fw->nfiles);
    for (size_t i = 0; i < fw->nfiles; i++) {
        uint8_t *e = dir + 4 + i * DIR_ENTRY_SIZE;
        put_be32(e, fw->files[i].len);
        put_be16(e + 4, (uint16_t)(FW_CFG_FILE_FIRST + i));
        memcpy(e + 8, fw->files[i].name, FW_CFG_MAX_NAME);
    }
    r = set_item(fw, FW_CFG_FILE_DIR, dir, len);
    free(dir);
    return r;
}

int fw_cfg_add_file(FwCfg *fw, const char *name, const void *data, size_t len)
{
    size_t n, pos;
    FwCfgFile f = { { 0 }, 0, NULL };
    int r;

    if (!name || (len && !data) || len > UINT32_MAX)
        return -EINVAL;
    n = strlen(name);
    if (n == 0 || n >= FW_CFG_MAX_NAME)
        return -EINVAL;
    if (fw->nfiles >= FW_CFG_MAX_FILES)
        return -ENOSPC;
    for (pos = 0; pos < fw->nfiles; pos++) {
        int c = strcmp(name, fw->files[pos].name);
        if (c == 0)
            return -EEXIST;
        if (c < 0)
            break;
    }
    if (fw->nfiles == fw->cap_files) {
        size_t cap = fw->cap_files ? 2 * fw->cap_files : 16;
        FwCfgFile *grown = realloc(fw->files, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        fw->files = grown;
        fw->cap_files = cap;
    }
    f.data = malloc(len ? len : 1);
    if (!f.data)
        return -ENOMEM;
    if (len)
        memcpy(f.data, data, len);
    f.len = (uint32_t)len;
    memcpy(f.name, name, n);
    memmove(&fw->files[pos + 1], &fw->files[pos],
            (fw->nfiles - pos) * sizeof(*fw->files));
    fw->files[pos] = f;
    fw->nfiles++;
    r = rebuild_dir(fw);
    if (r < 0) {
        free(f.data);
        memmove(&fw->files[pos], &fw->files[pos + 1],
                (fw->nfiles - pos - 1) * sizeof(*fw->files));
        fw->nfiles--;
        return r;
    }
    select_key(fw, fw->s.cur_key);
    return 0;
}

int fw_cfg_file_key(const FwCfg *fw, const char *name)
{
    for (size_t i = 0; i < fw->nfiles; i++)
        if (strcmp(fw->files[i].name, name) == 0)
            return (int)(FW_CFG_FILE_FIRST + i);
    return -1;
}

/* ---- the selector and data ports ---------------------------------------- */

static uint8_t data_read_byte(FwCfg *fw)
{
    if (fw->s.cur_offset >= fw->cur_len) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "fw_cfg: read past the end of key "
                    "0x%04x (%" PRIu32 " bytes)\n", fw->s.cur_key, fw->cur_len);
        return 0;
    }
    return fw->cur_data[fw->s.cur_offset++];
}

static uint64_t port_read(void *opaque, uint64_t off, unsigned size)
{
    FwCfg *fw = opaque;

    if (off == 1 && size == 1)
        return data_read_byte(fw);
    LOG_LIMITED(LOG_GUEST_ERRORS, "fw_cfg: %u-byte read at port 0x%x "
                "ignored\n", size, (unsigned)(FW_CFG_PORT_SEL + off));
    return 0;
}

static void port_write(void *opaque, uint64_t off, uint64_t value,
                       unsigned size)
{
    FwCfg *fw = opaque;

    if (off == 0 && size == 2) {
        do_select(fw, (uint16_t)value);
        return;
    }
    if (off == 1 && size == 1)
        LOG_LIMITED(LOG_GUEST_ERRORS, "fw_cfg: data port write ignored "
                    "(items are read-only)\n");
    else
        LOG_LIMITED(LOG_GUEST_ERRORS, "fw_cfg: %u-byte write at port 0x%x "
                    "ignored\n", size, (unsigned)(FW_CFG_PORT_SEL + off));
}

static const MemOps port_ops = {
    .read = port_read, .write = port_write, .max_access = 2,
};

/* ---- DMA ---------------------------------------------------------------- */

/* Whether [addr, addr + len) lies wholly in RAM or ROM: the only places a
 * DMA transfer may touch.  Checked before anything moves. */
static bool dma_range_ok(AddressSpace *mem, uint64_t addr, uint64_t len)
{
    if (len == 0)
        return true;
    if (addr + (len - 1) < addr)
        return false;
    while (len) {
        const Region *r = as_lookup(mem, addr);
        uint64_t avail;
        if (!r || r->kind == REGION_IO)
            return false;
        avail = r->length - (addr - r->base);
        if (avail >= len)
            return true;
        addr += avail;
        len -= avail;
    }
    return true;
}

/* A read: item bytes from the current offset, then zeros for whatever
 * lies past the end of the item (the data port reads 0 there too). */
static void dma_read(FwCfg *fw, uint64_t addr, uint32_t len)
{
    static const uint8_t zeros[DMA_CHUNK];
    uint32_t avail = fw->s.cur_offset < fw->cur_len ? fw->cur_len - fw->s.cur_offset : 0;
    uint32_t n = len < avail ? len : avail;

    if (n) {
        as_write_buf(fw->mem, addr, fw->cur_data + fw->s.cur_offset, n, false);
        fw->s.cur_offset += n;
    }
    for (uint32_t done = n; done < len;) {
        uint32_t k = len - done < DMA_CHUNK ? len - done : DMA_CHUNK;
        as_write_buf(fw->mem, addr + done, zeros, k, false);
        done += k;
    }
}

/* Run the FWCfgDmaAccess at `desc`.  Returns the control value to write
 * back: 0, or FW_CFG_DMA_ERROR. */
static uint32_t dma_run(FwCfg *fw, uint64_t desc)
{
    uint8_t acc[DMA_ACCESS_SIZE];
    uint32_t control, len;
    uint64_t addr;

    as_read_buf(fw->mem, desc, acc, sizeof(acc));
    control = get_be32(acc);
    len = get_be32(acc + 4);
    addr = get_be64(acc + 8);
    if (control & FW_CFG_DMA_SELECT)
        do_select(fw, (uint16_t)(control >> 16));
    if (control & FW_CFG_DMA_READ) {
        if (!dma_range_ok(fw->mem, addr, len)) {
            LOG_LIMITED(LOG_GUEST_ERRORS, "fw_cfg: DMA read to 0x%" PRIx64
                        " length 0x%" PRIx32 " is not all RAM; refused\n",
                        addr, len);
            return FW_CFG_DMA_ERROR;
        }
        dma_read(fw, addr, len);
    } else if (control & FW_CFG_DMA_WRITE) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "fw_cfg: DMA write to key 0x%04x "
                    "refused (items are read-only)\n", fw->s.cur_key);
        return FW_CFG_DMA_ERROR;
    } else if (control & FW_CFG_DMA_SKIP) {
        uint32_t avail = fw->s.cur_offset < fw->cur_len ? fw->cur_len - fw->s.cur_offset : 0;
        fw->s.cur_offset += len < avail ? len : avail;
    }
    return 0;
}

static void dma_start(FwCfg *fw, uint64_t desc)
{
    uint8_t out[4];

    if (!dma_range_ok(fw->mem, desc, DMA_ACCESS_SIZE)) {
        /* Nowhere to report the failure: the structure itself is bogus. */
        LOG_LIMITED(LOG_GUEST_ERRORS, "fw_cfg: DMA access structure at 0x%"
                    PRIx64 " is not in RAM; ignored\n", desc);
        return;
    }
    put_be32(out, dma_run(fw, desc));
    as_write_buf(fw->mem, desc, out, sizeof(out), false);
}

static uint64_t dma_port_read(void *opaque, uint64_t off, unsigned size)
{
    static const char sig[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };
    uint64_t v = 0;

    (void)opaque;
    for (unsigned i = 0; i < size && off + i < 8; i++)
        v |= (uint64_t)(uint8_t)sig[off + i] << (8 * i);
    return v;
}

static void dma_port_write(void *opaque, uint64_t off, uint64_t value,
                           unsigned size)
{
    FwCfg *fw = opaque;
    uint64_t desc;

    if (size != 4 || (off != 0 && off != 4)) {
        LOG_LIMITED(LOG_GUEST_ERRORS, "fw_cfg: %u-byte write at DMA port "
                    "0x%x ignored (use 32-bit halves)\n", size,
                    (unsigned)(FW_CFG_PORT_DMA + off));
        return;
    }
    /* The register is big-endian; an x86 OUTL puts the low byte of EAX
     * at the lowest port, so the guest writes byte-swapped halves. */
    if (off == 0) {
        fw->s.dma_addr_hi = bswap32((uint32_t)value);
        return;
    }
    desc = (uint64_t)fw->s.dma_addr_hi << 32 | bswap32((uint32_t)value);
    fw->s.dma_addr_hi = 0;
    dma_start(fw, desc);
}

static const MemOps dma_ops = {
    .read = dma_port_read, .write = dma_port_write, .max_access = 4,
};

/* ---- life cycle --------------------------------------------------------- */

void fw_cfg_reset(FwCfg *fw)
{
    fw->s.dma_addr_hi = 0;
    do_select(fw, FW_CFG_SIGNATURE);
}

static int fw_cfg_post_load(void *state, void *opaque)
{
    FwCfg *fw = opaque;

    (void)state;
    select_key(fw, fw->s.cur_key);
    return 0;
}

int fw_cfg_new(AddressSpace *io, AddressSpace *mem, FwCfg **out)
{
    static const uint8_t sig[4] = { 'Q', 'E', 'M', 'U' };
    const uint8_t id[4] = { FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA, 0, 0, 0 };
    FwCfg *fw;
    int r;

    if (!io || !mem)
        return -EINVAL;
    fw = calloc(1, sizeof(*fw));
    if (!fw)
        return -ENOMEM;
    fw->io = io;
    fw->mem = mem;
    r = set_item(fw, FW_CFG_SIGNATURE, sig, sizeof(sig));
    if (!r)
        r = set_item(fw, FW_CFG_ID, id, sizeof(id));
    if (!r)
        r = rebuild_dir(fw);
    if (!r) {
        r = as_map_io(io, "fw_cfg", FW_CFG_PORT_SEL, 2, &port_ops, fw);
        fw->ports_mapped = r == 0;
    }
    if (!r) {
        r = as_map_io(io, "fw_cfg-dma", FW_CFG_PORT_DMA, 8, &dma_ops, fw);
        fw->dma_mapped = r == 0;
    }
    if (r < 0) {
        fw_cfg_free(fw);
        return r;
    }
    fw_cfg_reset(fw);
    *out = fw;
    return 0;
}

void fw_cfg_free(FwCfg *fw)
{
    if (!fw)
        return;
    if (fw->ports_mapped)
        as_unmap(fw->io, FW_CFG_PORT_SEL);
    if (fw->dma_mapped)
        as_unmap(fw->io, FW_CFG_PORT_DMA);
    for (size_t i = 0; i < fw->nitems; i++)
        free(fw->items[i].data);
    for (size_t i = 0; i < fw->nfiles; i++)
        free(fw->files[i].data);
    free(fw->items);
    free(fw->files);
    free(fw);
}
