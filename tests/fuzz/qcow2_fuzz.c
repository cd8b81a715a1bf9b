/* Fuzz target for the qcow2 driver (machine/qcow2*.c, machine/block.c).
 *
 * Each input is an image file: it is written to disk, opened through
 * block_open (format probed, read-write), then read, written, discarded
 * and flushed a little at offsets derived from the input.  Contract 8 of
 * DESIGN.md: whatever the bytes, the result is an error or data, never a
 * crash, a hang or a leak.
 *
 * Two builds:
 *   - libFuzzer (clang -fsanitize=fuzzer,address): LLVMFuzzerTestOneInput
 *     only; `make check-long` runs it for minutes from the seed images.
 *   - standalone (-DFUZZ_STANDALONE, gcc -fsanitize=address): main() takes
 *     seed images and an iteration count and mutates the seeds with a
 *     fixed PRNG (headers and tables mostly), so `make test` repeats the
 *     same run each time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/block.h"
#include "machine/block_int.h"

static char image_path[256];

static void pick_path(void)
{
    const char *dir = getenv("TMPDIR");

    if (image_path[0])
        return;
    if (!dir || !*dir)
        dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(image_path, sizeof(image_path), "%s/vireo-fuzz-%d.img", dir, (int)getpid());
    block_quiet = true;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* A few operations on an opened image, at places the input chooses. */
static void exercise(BlockDevice *bd, const uint8_t *data, size_t size)
{
    static uint8_t buf[65536 + 512];
    uint64_t disk = block_size(bd), h = size;

    for (size_t i = 0; i < size && i < 64; i++)
        h = mix(h ^ data[i]);
    for (int op = 0; op < 12 && disk; op++) {
        size_t len = 1 + (size_t)(mix(h + op) % sizeof(buf));
        uint64_t off;

        h = mix(h + 0x9e3779b97f4a7c15ull);
        if (len > disk)
            len = (size_t)disk;
        /* Mostly where the data is (the start), sometimes anywhere. */
        off = op % 3 ? h % (disk - len + 1) : h % 65536 % (disk - len + 1);
        switch (op % 4) {
        case 0:
        case 1:
            block_pread(bd, off, buf, len);
            break;
        case 2:
            /* Short writes: allocation paths, not bulk copying. */
            len = len % 4096 + 1 < len ? len % 4096 + 1 : len;
            memset(buf, (int)(h & 0xff), len);
            block_pwrite(bd, off, buf, len);
            break;
        default:
            if (op == 7)
                block_discard(bd, off, len);
            else
                block_flush(bd);
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    BlockOpenOptions opts = {0};
    BlockDevice *bd;
    char err[512];
    int fd;

    pick_path();
    fd = open(image_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return 0;
    if (block_pwrite_full(fd, data, size, 0) < 0) {
        close(fd);
        return 0;
    }
    close(fd);
    if (block_open(image_path, &opts, &bd, err, sizeof(err)) == 0) {
        exercise(bd, data, size);
        block_close(bd);
    } else if (strchr(err, '\n') || !err[0]) {
        /* Errors are one line and never empty. */
        abort();
    }
    opts.readonly = true;   /* read-only opens accept dirty/corrupt images */
    if (block_open(image_path, &opts, &bd, err, sizeof(err)) == 0) {
        exercise(bd, data, size);
        block_close(bd);
    }
    unlink(image_path);
    return 0;
}

#ifdef FUZZ_STANDALONE

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Values that break bounds checks more often than random ones. */
static uint64_t interesting(void)
{
    static const uint64_t v[] = {
        0, 1, 2, 3, 4, 8, 9, 16, 21, 22, 63, 64, 0x7f, 0x80, 0xff, 0x100,
        0x200, 0x1ff, 0x1000, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
        0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
        0xffffffffffffffffull, 0x00fffffffffffe00ull, 0x4000000000000000ull,
        0x8000000000010000ull, 0x8000000000000001ull,
    };
    return v[rnd() % (sizeof(v) / sizeof(v[0]))];
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* One mutation.  Most land in the header's first 112 bytes or on an
 * 8-byte-aligned table entry, where a parser's decisions are made. */
static size_t mutate(uint8_t *img, size_t len, size_t cap)
{
    size_t off;

    if (len == 0)
        return len;
    switch (rnd() % 8) {
    case 0:     /* a header field */
        off = (rnd() % 28) * 4;
        if (off + 8 <= len)
            put_be(img + off, interesting(), rnd() % 2 ? 4 : 8);
        break;
    case 1:     /* a table entry */
        off = (rnd() % len) & ~7ul;
        if (off + 8 <= len)
            put_be(img + off, rnd() % 2 ? interesting() : rnd() & 0x80fffffffffffe01ull, 8);
        break;
    case 2:     /* a bit anywhere in the first cluster */
        off = rnd() % (len < 4096 ? len : 4096);
        img[off] ^= (uint8_t)(1u << (rnd() % 8));
        break;
    case 3:     /* a bit anywhere */
        off = rnd() % len;
        img[off] ^= (uint8_t)(1u << (rnd() % 8));
        break;
    case 4:     /* a byte anywhere */
        img[rnd() % len] = (uint8_t)interesting();
        break;
    case 5:     /* truncate */
        return 1 + rnd() % len;
    case 6:     /* copy a block elsewhere (tables pointing at tables) */
        if (len > 64) {
            size_t n = 8 + rnd() % 56, from = rnd() % (len - n), to = rnd() % (len - n);
            memmove(img + to, img + from, n);
        }
        break;
    default:    /* grow with garbage */
        if (len < cap) {
            size_t n = 1 + rnd() % (cap - len < 4096 ? cap - len : 4096);
            for (size_t i = 0; i < n; i++)
                img[len + i] = (uint8_t)rnd();
            return len + n;
        }
        break;
    }
    return len;
}

static uint8_t *load(const char *path, size_t *len)
{
    struct stat st;
    uint8_t *buf;
    int fd = open(path, O_RDONLY);

    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (8 << 20)) {
        fprintf(stderr, "qcow2_fuzz: cannot use seed %s\n", path);
        exit(2);
    }
    buf = malloc((size_t)st.st_size);
    if (!buf || block_pread_full(fd, buf, (size_t)st.st_size, 0) != st.st_size)
        exit(2);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

int main(int argc, char **argv)
{
    enum { MAX_SEEDS = 64 };
    uint8_t *seed[MAX_SEEDS], *work;
    size_t seed_len[MAX_SEEDS], cap = 0;
    unsigned long iterations;
    int nseeds = argc - 2;

    if (argc < 3 || nseeds > MAX_SEEDS) {
        fprintf(stderr, "usage: qcow2_fuzz ITERATIONS SEED...\n");
        return 2;
    }
    iterations = strtoul(argv[1], NULL, 0);
    for (int i = 0; i < nseeds; i++) {
        seed[i] = load(argv[i + 2], &seed_len[i]);
        if (seed_len[i] > cap)
            cap = seed_len[i];
    }
    cap += 16384;
    work = malloc(cap);
    if (!work)
        return 2;
    for (unsigned long it = 0; it < iterations; it++) {
        int s = (int)(it % (unsigned long)nseeds);
        size_t len = seed_len[s];
        unsigned n = 1 + (unsigned)(rnd() % 6);

        memcpy(work, seed[s], len);
        for (unsigned m = 0; m < n; m++)
            len = mutate(work, len, cap);
        LLVMFuzzerTestOneInput(work, len);
    }
    for (int i = 0; i < nseeds; i++)
        free(seed[i]);
    free(work);
    printf("fuzz: %lu passed, 0 failed\n", iterations);
    return 0;
}

#endif
