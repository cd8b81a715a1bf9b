/* Helpers for the harnesses' Unicorn rules (HlUcRule in hostlib.h). */
#include "tests/diff/hostlib/hostlib.h"

#include <string.h>

bool hl_take(const HlCase *c, uint8_t *u, size_t off, size_t n)
{
    if (!memcmp(u + off, c->v + off, n))
        return false;
    memcpy(u + off, c->v + off, n);
    return true;
}

bool hl_66_with_f2f3(const uint8_t *bytes, size_t len)
{
    bool p66 = false, f2f3 = false;
    for (size_t i = 0; i < len && bytes[i] != 0x0f; i++) {
        p66 |= bytes[i] == 0x66;
        f2f3 |= bytes[i] == 0xf2 || bytes[i] == 0xf3;
    }
    return p66 && f2f3;
}
