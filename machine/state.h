/* Device state tables (contract 3 of DESIGN.md: state is plain data).
 *
 * Every device keeps its guest-visible state in a plain struct of
 * fixed-width integers and arrays, and describes it with a field table:
 *
 *     static const StateField uart_fields[] = {
 *         STATE_U8(UartState, lcr),
 *         STATE_U8_ARRAY(UartState, rx_fifo),
 *         STATE_END
 *     };
 *     const StateDesc uart_state_desc = {
 *         .name = "uart16550", .version = 1, .size = sizeof(UartState),
 *         .fields = uart_fields, .post_load = uart_post_load,
 *     };
 *
 * One walker serialises, loads, hashes and diffs any such state.  Snapshots,
 * migration and replay-divergence checks all use it; nothing else knows a
 * device's layout.  The byte format is little-endian on every host.
 */
#ifndef VIREO_MACHINE_STATE_H
#define VIREO_MACHINE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum StateFieldType {
    FIELD_END = 0,
    FIELD_U8,
    FIELD_U16,
    FIELD_U32,
    FIELD_U64,
    FIELD_STRUCT,     /* a nested struct described by `sub` */
} StateFieldType;

typedef struct StateDesc StateDesc;

typedef struct StateField {
    const char *name;
    StateFieldType type;
    size_t offset;     /* offsetof the field (or of element 0) */
    size_t count;      /* elements: 1 for scalars, N for arrays */
    size_t stride;     /* bytes between elements (for arrays of structs) */
    const StateDesc *sub;
} StateField;

struct StateDesc {
    const char *name;
    uint32_t version;
    size_t size;                      /* sizeof the state struct */
    const StateField *fields;         /* ends with STATE_END */
    /* Called after a successful load, to recompute derived runtime data
     * (re-arm timers, re-raise IRQ lines).  Returns 0 or -errno; a failure
     * makes state_load fail. */
    int (*post_load)(void *state, void *opaque);
};

#define STATE_FIELD_SIZEOF_(T, f) sizeof(((T *)0)->f)
#define STATE_ELEM_SIZEOF_(T, f)  sizeof(((T *)0)->f[0])

#define STATE_SCALAR_(T, f, type, ctype)                                    \
    { #f, type, offsetof(T, f), 1, sizeof(ctype), NULL }
#define STATE_ARRAY_(T, f, type)                                            \
    { #f, type, offsetof(T, f),                                             \
      STATE_FIELD_SIZEOF_(T, f) / STATE_ELEM_SIZEOF_(T, f),                 \
      STATE_ELEM_SIZEOF_(T, f), NULL }

#define STATE_U8(T, f)   STATE_SCALAR_(T, f, FIELD_U8, uint8_t)
#define STATE_U16(T, f)  STATE_SCALAR_(T, f, FIELD_U16, uint16_t)
#define STATE_U32(T, f)  STATE_SCALAR_(T, f, FIELD_U32, uint32_t)
#define STATE_U64(T, f)  STATE_SCALAR_(T, f, FIELD_U64, uint64_t)
/* Signed fields are stored as their unsigned twins. */
#define STATE_I32(T, f)  STATE_U32(T, f)
#define STATE_I64(T, f)  STATE_U64(T, f)
#define STATE_BOOL(T, f) STATE_U8(T, f)

#define STATE_U8_ARRAY(T, f)  STATE_ARRAY_(T, f, FIELD_U8)
#define STATE_U16_ARRAY(T, f) STATE_ARRAY_(T, f, FIELD_U16)
#define STATE_U32_ARRAY(T, f) STATE_ARRAY_(T, f, FIELD_U32)
#define STATE_U64_ARRAY(T, f) STATE_ARRAY_(T, f, FIELD_U64)

#define STATE_STRUCT(T, f, desc)                                            \
    { #f, FIELD_STRUCT, offsetof(T, f), 1, STATE_FIELD_SIZEOF_(T, f), &(desc) }
#define STATE_STRUCT_ARRAY(T, f, desc)                                      \
    { #f, FIELD_STRUCT, offsetof(T, f),                                     \
      STATE_FIELD_SIZEOF_(T, f) / STATE_ELEM_SIZEOF_(T, f),                 \
      STATE_ELEM_SIZEOF_(T, f), &(desc) }

#define STATE_END { NULL, FIELD_END, 0, 0, 0, NULL }

/* A growable byte buffer for serialised state. */
typedef struct StateBuf {
    uint8_t *data;
    size_t len, cap;
} StateBuf;

void statebuf_free(StateBuf *b);

/* Append one section: a header (magic, name, version, a fingerprint of the
 * field table, payload length) and the payload.  Returns 0 or -ENOMEM. */
int state_save(const StateDesc *desc, const void *state, StateBuf *out);

/* Load the section at *pos in data[0..len), advancing *pos.  The name,
 * version, fingerprint and length must match `desc`; nothing in `state`
 * changes unless the whole section is valid and post_load succeeds (if
 * post_load fails, the previous contents are put back; undoing whatever
 * else post_load did is its own business).  Bytes of `state` that no field
 * covers are left as they were.  Returns 0, -EINVAL for a bad section,
 * -ENOMEM, or post_load's error, with a one-line reason in err[0..errlen)
 * on failure; *pos moves only on success. */
int state_load(const StateDesc *desc, void *state, void *opaque,
               const uint8_t *data, size_t len, size_t *pos,
               char *err, size_t errlen);

/* xxHash64 of the serialised payload: equal states give equal hashes on
 * every host. */
uint64_t state_hash(const StateDesc *desc, const void *state);

/* Print "name.field[i]: a -> b" for every differing element to `out`
 * (nested names joined with '.').  Returns the number of differences. */
int state_diff(const StateDesc *desc, const void *a, const void *b, FILE *out);

#endif
