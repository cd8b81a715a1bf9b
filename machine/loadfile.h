/* Reading a whole host file into memory (machine/loadfile.c). */
#ifndef VIREO_MACHINE_LOADFILE_H
#define VIREO_MACHINE_LOADFILE_H

#include <stddef.h>
#include <stdint.h>

/* Read the regular file `path` into a malloc'd buffer.  Returns 0, or
 * -errno with one line in err that starts with `what` (the option) and
 * names the file; on failure *buf is NULL. */
int load_file(const char *what, const char *path, uint8_t **buf, size_t *size,
              char *err, size_t errlen);

#endif
