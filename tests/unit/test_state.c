/* Unit tests for machine/state.c: the generic state walker.
 *
 * Expected bytes are written out by hand from the format described in
 * machine/state.c (all little-endian); the fingerprint is recomputed here
 * from a hand-written encoding of the field table, so that a change in the
 * encoder's format is caught, not mirrored.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "machine/state.h"

/* ---- the test states ------------------------------------------------------ */

typedef struct Inner {
    uint8_t a;
    uint16_t b[2];
    uint32_t c;
} Inner;

typedef struct Outer {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    uint8_t bytes[5];
    uint16_t words[3];
    uint32_t dwords[2];
    uint64_t qwords[2];
    Inner one;
    Inner many[3];
    uint32_t unlisted;      /* runtime data: not in the table */
} Outer;

static const StateField inner_fields[] = {
    STATE_U8(Inner, a),
    STATE_U16_ARRAY(Inner, b),
    STATE_U32(Inner, c),
    STATE_END
};
static const StateDesc inner_desc = {
    .name = "inner", .version = 1, .size = sizeof(Inner), .fields = inner_fields,
};

static const StateField outer_fields[] = {
    STATE_U8(Outer, u8),
    STATE_U16(Outer, u16),
    STATE_U32(Outer, u32),
    STATE_U64(Outer, u64),
    STATE_U8_ARRAY(Outer, bytes),
    STATE_U16_ARRAY(Outer, words),
    STATE_U32_ARRAY(Outer, dwords),
    STATE_U64_ARRAY(Outer, qwords),
    STATE_STRUCT(Outer, one, inner_desc),
    STATE_STRUCT_ARRAY(Outer, many, inner_desc),
    STATE_END
};

/* post_load records what it saw, and fails on request. */
typedef struct Hook {
    int calls;
    int rc;
    void *state;
    uint32_t u32;
} Hook;

static int hook_post_load(void *state, void *opaque)
{
    Hook *h = opaque;

    h->calls++;
    h->state = state;
    h->u32 = ((Outer *)state)->u32;
    return h->rc;
}

static const StateDesc outer_desc = {
    .name = "test", .version = 1, .size = sizeof(Outer), .fields = outer_fields,
    .post_load = hook_post_load,
};

/* 1+2+4+8 + 5*1 + 3*2 + 2*4 + 2*8 + 4*(1+2*2+4) */
#define OUTER_PAYLOAD 86
#define OUTER_HEADER (4 + 2 + 4 + 4 + 8 + 8)     /* name "test" */
#define OUTER_SECTION (OUTER_HEADER + OUTER_PAYLOAD)

/* The same fields with u8 and u16 swapped: a layout change. */
static const StateField swapped_fields[] = {
    STATE_U16(Outer, u16),
    STATE_U8(Outer, u8),
    STATE_U32(Outer, u32),
    STATE_U64(Outer, u64),
    STATE_U8_ARRAY(Outer, bytes),
    STATE_U16_ARRAY(Outer, words),
    STATE_U32_ARRAY(Outer, dwords),
    STATE_U64_ARRAY(Outer, qwords),
    STATE_STRUCT(Outer, one, inner_desc),
    STATE_STRUCT_ARRAY(Outer, many, inner_desc),
    STATE_END
};
static const StateDesc swapped_desc = {
    .name = "test", .version = 1, .size = sizeof(Outer), .fields = swapped_fields,
};

/* Only the nested table differs. */
static const StateField inner_reordered_fields[] = {
    STATE_U32(Inner, c),
    STATE_U8(Inner, a),
    STATE_U16_ARRAY(Inner, b),
    STATE_END
};
static const StateDesc inner_reordered_desc = {
    .name = "inner", .version = 1, .size = sizeof(Inner),
    .fields = inner_reordered_fields,
};
static const StateField nested_change_fields[] = {
    STATE_U8(Outer, u8),
    STATE_U16(Outer, u16),
    STATE_U32(Outer, u32),
    STATE_U64(Outer, u64),
    STATE_U8_ARRAY(Outer, bytes),
    STATE_U16_ARRAY(Outer, words),
    STATE_U32_ARRAY(Outer, dwords),
    STATE_U64_ARRAY(Outer, qwords),
    STATE_STRUCT(Outer, one, inner_desc),
    STATE_STRUCT_ARRAY(Outer, many, inner_reordered_desc),
    STATE_END
};
static const StateDesc nested_change_desc = {
    .name = "test", .version = 1, .size = sizeof(Outer),
    .fields = nested_change_fields,
};

static void fill(Outer *s, unsigned seed)
{
    memset(s, 0, sizeof(*s));
    s->u8 = (uint8_t)(0x10 + seed);
    s->u16 = (uint16_t)(0x1234 + seed);
    s->u32 = 0x89abcdefu + seed;
    s->u64 = 0x0123456789abcdefull + seed;
    for (unsigned i = 0; i < 5; i++)
        s->bytes[i] = (uint8_t)(seed * 3 + i);
    for (unsigned i = 0; i < 3; i++)
        s->words[i] = (uint16_t)(0xa000 + seed * 16 + i);
    for (unsigned i = 0; i < 2; i++)
        s->dwords[i] = 0xd0000000u + seed * 256 + i;
    for (unsigned i = 0; i < 2; i++)
        s->qwords[i] = 0xf000000000000000ull + seed * 65536 + i;
    Inner *all[4] = { &s->one, &s->many[0], &s->many[1], &s->many[2] };
    for (unsigned k = 0; k < 4; k++) {
        all[k]->a = (uint8_t)(seed + k);
        all[k]->b[0] = (uint16_t)(0x100 * k + seed);
        all[k]->b[1] = (uint16_t)(0x100 * k + seed + 1);
        all[k]->c = 0xc0000000u + k * 0x1000 + seed;
    }
    s->unlisted = 0xdead0000u + seed;
}

static StateBuf save(const StateDesc *desc, const void *state)
{
    StateBuf b = {0};

    cr_assert_eq(state_save(desc, state, &b), 0);
    return b;
}

/* Loading data[0..len) at pos must fail with -EINVAL and `msg` (if not
 * NULL), leaving the target, *pos and the hook untouched.  The data is
 * copied to an exact-size allocation so that ASan sees any overread. */
static void expect_reject(const StateDesc *desc, const uint8_t *data,
                          size_t len, size_t pos, const char *msg)
{
    Outer target, before;
    Hook hook = {0};
    char err[200] = "";
    uint8_t *copy = malloc(len ? len : 1);
    size_t p = pos;

    memcpy(copy, data, len);
    fill(&target, 99);
    before = target;
    int rc = state_load(desc, &target, &hook, copy, len, &p, err, sizeof(err));
    free(copy);
    cr_assert_eq(rc, -EINVAL, "len %zu: rc %d", len, rc);
    cr_assert_eq(memcmp(&target, &before, sizeof(Outer)), 0, "len %zu", len);
    cr_assert_eq(p, pos);
    cr_assert_eq(hook.calls, 0);
    cr_assert_neq(err[0], '\0');
    cr_assert_null(strchr(err, '\n'));
    if (msg)
        cr_assert_str_eq(err, msg);
}

/* ---- round trip ------------------------------------------------------------ */

Test(state, round_trip)
{
    Outer src, dst;
    Hook hook = {0};
    char err[200] = "";
    size_t pos = 0;

    fill(&src, 7);
    fill(&dst, 0);
    dst.unlisted = 0x5555aaaau;
    StateBuf b = save(&outer_desc, &src);
    cr_assert_eq(b.len, OUTER_SECTION);

    cr_assert_eq(state_load(&outer_desc, &dst, &hook, b.data, b.len, &pos,
                            err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(pos, b.len);
    cr_assert_eq(dst.unlisted, 0x5555aaaau, "unlisted bytes must be kept");
    dst.unlisted = src.unlisted;
    cr_assert_eq(memcmp(&src, &dst, sizeof(Outer)), 0);
    cr_assert_eq(state_diff(&outer_desc, &src, &dst, NULL), 0);
    statebuf_free(&b);
    cr_assert_null(b.data);
}

Test(state, post_load_called_once_on_final_state)
{
    Outer src, dst;
    Hook hook = {0};
    size_t pos = 0;

    fill(&src, 3);
    fill(&dst, 4);
    StateBuf b = save(&outer_desc, &src);
    cr_assert_eq(state_load(&outer_desc, &dst, &hook, b.data, b.len, &pos,
                            NULL, 0), 0);
    cr_assert_eq(hook.calls, 1);
    cr_assert_eq(hook.state, &dst);
    cr_assert_eq(hook.u32, src.u32);
    statebuf_free(&b);
}

Test(state, post_load_failure_restores_old_state)
{
    Outer src, dst, before;
    Hook hook = { .rc = -EIO };
    char err[200] = "";
    size_t pos = 0;

    fill(&src, 3);
    fill(&dst, 4);
    before = dst;
    StateBuf b = save(&outer_desc, &src);
    cr_assert_eq(state_load(&outer_desc, &dst, &hook, b.data, b.len, &pos,
                            err, sizeof(err)), -EIO);
    cr_assert_eq(hook.calls, 1);
    cr_assert_eq(hook.u32, src.u32, "post_load saw the new state");
    cr_assert_eq(memcmp(&dst, &before, sizeof(Outer)), 0);
    cr_assert_eq(pos, 0);
    cr_assert_str_eq(err, "test: post-load failed: Input/output error");
    statebuf_free(&b);
}

Test(state, sections_in_sequence)
{
    Outer a, b2, out;
    Inner in = { .a = 1, .b = { 2, 3 }, .c = 4 }, in_out = {0};
    StateBuf b = {0};
    size_t pos = 0;
    Hook hook = {0};

    fill(&a, 1);
    fill(&b2, 2);
    cr_assert_eq(state_save(&outer_desc, &a, &b), 0);
    cr_assert_eq(state_save(&inner_desc, &in, &b), 0);
    cr_assert_eq(state_save(&outer_desc, &b2, &b), 0);
    cr_assert_eq(b.len, 2 * OUTER_SECTION + (26 + 5 + 9));

    cr_assert_eq(state_load(&outer_desc, &out, &hook, b.data, b.len, &pos, NULL, 0), 0);
    cr_assert_eq(out.u64, a.u64);
    cr_assert_eq(pos, OUTER_SECTION);
    /* The next section is 'inner', not 'test'. */
    expect_reject(&outer_desc, b.data, b.len, pos,
                  "expected section 'test', found 'inner'");
    cr_assert_eq(state_load(&inner_desc, &in_out, NULL, b.data, b.len, &pos, NULL, 0), 0);
    cr_assert_eq(in_out.c, 4);
    cr_assert_eq(in_out.b[1], 3);
    cr_assert_eq(state_load(&outer_desc, &out, &hook, b.data, b.len, &pos, NULL, 0), 0);
    cr_assert_eq(out.u64, b2.u64);
    cr_assert_eq(pos, b.len);
    expect_reject(&outer_desc, b.data, b.len, pos,
                  "test: truncated section header at offset 272");
    statebuf_free(&b);
}

/* ---- exact bytes ----------------------------------------------------------- */

typedef struct Tiny {
    uint8_t a;
    uint16_t b;
    uint32_t c;
    uint64_t d;
    uint16_t w[2];
} Tiny;

static const StateField tiny_fields[] = {
    STATE_U8(Tiny, a),
    STATE_U16(Tiny, b),
    STATE_U32(Tiny, c),
    STATE_U64(Tiny, d),
    STATE_U16_ARRAY(Tiny, w),
    STATE_END
};
static const StateDesc tiny_desc = {
    .name = "tiny", .version = 3, .size = sizeof(Tiny), .fields = tiny_fields,
};

Test(state, exact_bytes_of_a_tiny_state)
{
    /* The field table as the fingerprint encodes it: per field u16 name
     * length, name, u8 type, u64 count; then a FIELD_END byte. */
    static const uint8_t table[] = {
        1, 0, 'a', FIELD_U8,  1, 0, 0, 0, 0, 0, 0, 0,
        1, 0, 'b', FIELD_U16, 1, 0, 0, 0, 0, 0, 0, 0,
        1, 0, 'c', FIELD_U32, 1, 0, 0, 0, 0, 0, 0, 0,
        1, 0, 'd', FIELD_U64, 1, 0, 0, 0, 0, 0, 0, 0,
        1, 0, 'w', FIELD_U16, 2, 0, 0, 0, 0, 0, 0, 0,
        FIELD_END,
    };
    uint64_t fp = XXH64(table, sizeof(table), 0);
    uint8_t want[] = {
        'V', 'S', 'T', 'S',
        4, 0, 't', 'i', 'n', 'y',
        3, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,             /* fingerprint, below */
        19, 0, 0, 0, 0, 0, 0, 0,
        0x11,
        0x33, 0x22,
        0x77, 0x66, 0x55, 0x44,
        0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
        0x02, 0x01, 0x04, 0x03,
    };
    for (int i = 0; i < 8; i++)
        want[14 + i] = (uint8_t)(fp >> (8 * i));

    Tiny t;
    memset(&t, 0xee, sizeof(t));   /* padding must not leak out */
    t.a = 0x11;
    t.b = 0x2233;
    t.c = 0x44556677;
    t.d = 0x8899aabbccddeeffull;
    t.w[0] = 0x0102;
    t.w[1] = 0x0304;
    StateBuf b = save(&tiny_desc, &t);
    cr_assert_eq(b.len, sizeof(want));
    for (size_t i = 0; i < sizeof(want); i++)
        cr_assert_eq(b.data[i], want[i], "byte %zu: %02x, want %02x", i,
                     b.data[i], want[i]);

    /* The hash covers exactly the payload. */
    cr_assert_eq(state_hash(&tiny_desc, &t), XXH64(want + 30, 19, 0));
    statebuf_free(&b);
}

Test(state, save_appends)
{
    Tiny t = { .a = 1 };
    StateBuf b = {0};

    cr_assert_eq(state_save(&tiny_desc, &t, &b), 0);
    size_t one = b.len;
    t.a = 2;
    cr_assert_eq(state_save(&tiny_desc, &t, &b), 0);
    cr_assert_eq(b.len, 2 * one);
    cr_assert_eq(b.data[30], 1);
    cr_assert_eq(b.data[one + 30], 2);
    statebuf_free(&b);
}

/* ---- hash -------------------------------------------------------------------- */

Test(state, hash_equal_for_equal_states)
{
    Outer a, b;

    fill(&a, 5);
    memset(&b, 0xa5, sizeof(b));     /* different padding */
    Outer tmp;
    fill(&tmp, 5);
    b.u8 = tmp.u8; b.u16 = tmp.u16; b.u32 = tmp.u32; b.u64 = tmp.u64;
    memcpy(b.bytes, tmp.bytes, sizeof(b.bytes));
    memcpy(b.words, tmp.words, sizeof(b.words));
    memcpy(b.dwords, tmp.dwords, sizeof(b.dwords));
    memcpy(b.qwords, tmp.qwords, sizeof(b.qwords));
    b.one = tmp.one;
    memcpy(b.many, tmp.many, sizeof(b.many));
    b.unlisted = 1;                  /* not part of the state */

    cr_assert_eq(state_hash(&outer_desc, &a), state_hash(&outer_desc, &b));
    cr_assert_eq(state_diff(&outer_desc, &a, &b, NULL), 0);
}

Test(state, hash_is_the_payload_hash)
{
    Outer a;

    fill(&a, 9);
    StateBuf b = save(&outer_desc, &a);
    cr_assert_eq(state_hash(&outer_desc, &a),
                 XXH64(b.data + OUTER_HEADER, OUTER_PAYLOAD, 0));
    statebuf_free(&b);
}

Test(state, hash_changes_with_any_field)
{
    Outer a, b;

    fill(&a, 5);
    uint64_t h = state_hash(&outer_desc, &a);
    b = a; b.u8 ^= 1;           cr_assert_neq(state_hash(&outer_desc, &b), h);
    b = a; b.bytes[4] ^= 1;     cr_assert_neq(state_hash(&outer_desc, &b), h);
    b = a; b.qwords[1] ^= 1ull << 63;
    cr_assert_neq(state_hash(&outer_desc, &b), h);
    b = a; b.many[2].c ^= 0x100;
    cr_assert_neq(state_hash(&outer_desc, &b), h);
    b = a; b.one.b[1] ^= 0x8000;
    cr_assert_neq(state_hash(&outer_desc, &b), h);
}

Test(state, hash_of_large_byte_array_spans_chunks)
{
    typedef struct Big { uint8_t ram[5000]; uint32_t tail; } Big;
    static const StateField big_fields[] = {
        STATE_U8_ARRAY(Big, ram), STATE_U32(Big, tail), STATE_END
    };
    static const StateDesc big_desc = {
        .name = "big", .version = 1, .size = sizeof(Big), .fields = big_fields,
    };
    static Big big;

    for (size_t i = 0; i < sizeof(big.ram); i++)
        big.ram[i] = (uint8_t)(i * 31);
    big.tail = 0x01020304;
    StateBuf b = save(&big_desc, &big);
    cr_assert_eq(b.len, 26 + 3 + 5004);
    cr_assert_eq(memcmp(b.data + 29, big.ram, sizeof(big.ram)), 0);
    cr_assert_eq(state_hash(&big_desc, &big), XXH64(b.data + 29, 5004, 0));
    statebuf_free(&b);
}

/* ---- diff -------------------------------------------------------------------- */

static int diff_text(const void *a, const void *b, char **text)
{
    size_t size;
    FILE *f = open_memstream(text, &size);
    int n = state_diff(&outer_desc, a, b, f);
    fclose(f);
    return n;
}

Test(state, diff_names_exactly_the_changed_fields)
{
    Outer a, b;
    char *text = NULL;

    fill(&a, 5);
    b = a;
    b.u16 = 0xbeef;
    b.bytes[2] = 0x7f;
    b.one.c = 0x1;
    b.many[1].b[0] = 0x4242;
    b.qwords[0] = 0xffffffffffffffffull;
    b.unlisted = 0;               /* ignored */

    cr_assert_eq(diff_text(&a, &b, &text), 5);
    cr_assert_str_eq(text,
        "test.u16: 0x1239 -> 0xbeef\n"
        "test.bytes[2]: 0x11 -> 0x7f\n"
        "test.qwords[0]: 0xf000000000050000 -> 0xffffffffffffffff\n"
        "test.one.c: 0xc0000005 -> 0x1\n"
        "test.many[1].b[0]: 0x205 -> 0x4242\n");
    free(text);
    cr_assert_eq(state_diff(&outer_desc, &a, &b, NULL), 5);
}

Test(state, diff_of_equal_states_is_empty)
{
    Outer a;
    char *text = NULL;

    fill(&a, 2);
    cr_assert_eq(diff_text(&a, &a, &text), 0);
    cr_assert_str_eq(text, "");
    free(text);
}

/* ---- rejected loads ------------------------------------------------------- */

Test(state, rejects_wrong_name)
{
    static const StateDesc other = {
        .name = "other", .version = 1, .size = sizeof(Outer),
        .fields = outer_fields,
    };
    Outer a;

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    expect_reject(&other, b.data, b.len, 0,
                  "expected section 'other', found 'test'");
    statebuf_free(&b);
}

Test(state, rejects_unprintable_name_safely)
{
    Outer a;

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    b.data[7] = '\n';
    expect_reject(&outer_desc, b.data, b.len, 0,
                  "expected section 'test', found 't?st'");
    statebuf_free(&b);
}

Test(state, rejects_wrong_version)
{
    static const StateDesc v2 = {
        .name = "test", .version = 2, .size = sizeof(Outer),
        .fields = outer_fields,
    };
    Outer a;

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    expect_reject(&v2, b.data, b.len, 0,
                  "test: version 1 not supported (expected 2)");
    statebuf_free(&b);
}

Test(state, rejects_every_truncation)
{
    Outer a;
    char msg[100];

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    for (size_t len = 0; len < b.len; len++) {
        if (len < OUTER_HEADER)
            snprintf(msg, sizeof(msg), "test: truncated section header at offset 0");
        else
            snprintf(msg, sizeof(msg),
                     "test: truncated section (need %d bytes, have %zu)",
                     OUTER_PAYLOAD, len - OUTER_HEADER);
        expect_reject(&outer_desc, b.data, len, 0, msg);
    }
    statebuf_free(&b);
}

Test(state, rejects_bad_magic)
{
    Outer a;

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    b.data[0] ^= 0x20;
    expect_reject(&outer_desc, b.data, b.len, 0, "bad section magic at offset 0");
    statebuf_free(&b);
}

Test(state, rejects_bad_magic_of_a_later_section)
{
    Outer a;
    Hook hook = {0};
    size_t pos = 0;

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    cr_assert_eq(state_save(&outer_desc, &a, &b), 0);
    b.data[OUTER_SECTION + 3] = 0;
    cr_assert_eq(state_load(&outer_desc, &a, &hook, b.data, b.len, &pos, NULL, 0), 0);
    expect_reject(&outer_desc, b.data, b.len, pos,
                  "bad section magic at offset 116");
    statebuf_free(&b);
}

Test(state, rejects_layout_change)
{
    Outer a;

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    expect_reject(&swapped_desc, b.data, b.len, 0,
                  "test: field layout differs from this build");
    expect_reject(&nested_change_desc, b.data, b.len, 0,
                  "test: field layout differs from this build");
    statebuf_free(&b);
}

Test(state, rejects_wrong_payload_length)
{
    Outer a;

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    b.data[OUTER_HEADER - 8] = OUTER_PAYLOAD - 1;
    expect_reject(&outer_desc, b.data, b.len, 0,
                  "test: payload length 85 (expected 86)");
    b.data[OUTER_HEADER - 8] = OUTER_PAYLOAD;
    b.data[OUTER_HEADER - 1] = 0x80;     /* absurdly large */
    expect_reject(&outer_desc, b.data, b.len, 0, NULL);
    statebuf_free(&b);
}

Test(state, rejects_pos_past_the_end)
{
    Outer a;

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    expect_reject(&outer_desc, b.data, b.len, b.len + 5, NULL);
    statebuf_free(&b);
}

Test(state, every_header_byte_is_checked)
{
    Outer a;

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    for (size_t i = 0; i < OUTER_HEADER; i++) {
        b.data[i] ^= 0x01;
        expect_reject(&outer_desc, b.data, b.len, 0, NULL);
        b.data[i] ^= 0x01;
    }
    statebuf_free(&b);
}

Test(state, payload_bytes_load_as_written)
{
    Outer a, out;
    Hook hook = {0};

    fill(&a, 1);
    StateBuf b = save(&outer_desc, &a);
    uint64_t h = state_hash(&outer_desc, &a);
    for (size_t i = OUTER_HEADER; i < b.len; i++) {
        size_t pos = 0;
        b.data[i] ^= 0x80;
        fill(&out, 2);
        cr_assert_eq(state_load(&outer_desc, &out, &hook, b.data, b.len, &pos,
                                NULL, 0), 0);
        cr_assert_neq(state_hash(&outer_desc, &out), h, "byte %zu", i);
        cr_assert_eq(state_diff(&outer_desc, &a, &out, NULL), 1, "byte %zu", i);
        b.data[i] ^= 0x80;
    }
    statebuf_free(&b);
}

/* ---- bad tables -------------------------------------------------------------- */

Test(state, refuses_a_table_that_overruns_its_struct)
{
    static const StateField bad_fields[] = {
        STATE_U8(Tiny, a),
        { "past", FIELD_U32, sizeof(Tiny) - 2, 1, 4, NULL },
        STATE_END
    };
    static const StateDesc bad_desc = {
        .name = "bad", .version = 1, .size = sizeof(Tiny), .fields = bad_fields,
    };
    Tiny t = {0}, good = { .a = 1 };
    StateBuf b = {0};
    char err[200] = "";
    size_t pos = 0;

    cr_assert_eq(state_save(&bad_desc, &t, &b), -EINVAL);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(state_save(&tiny_desc, &good, &b), 0);
    cr_assert_eq(state_load(&bad_desc, &t, NULL, b.data, b.len, &pos,
                            err, sizeof(err)), -EINVAL);
    cr_assert_str_eq(err, "bad: bad field table at 'past'");
    cr_assert_eq(t.a, 0);
    statebuf_free(&b);
}
