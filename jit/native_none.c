/* Hosts without a native JIT backend: jit_backend_native() says so, and
 * the JIT runs on the IR interpreter (jit/irinterp.c).  Each native
 * backend (jit/<host>/) defines it for its own host. */
#include "jit/backend.h"

#if !defined(__x86_64__)
const JitBackend *jit_backend_native(void)
{
    return NULL;
}
#endif
