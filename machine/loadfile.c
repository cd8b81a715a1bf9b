/* Reading a whole host file into memory, for the loaders (-kernel,
 * -initrd): one place for the checks and the one-line errors. */
#include "machine/loadfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int load_file(const char *what, const char *path, uint8_t **buf,
                     size_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open '%s': %s", what, path, strerror(e));
        return -e;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: '%s' is not a regular file", what, path);
        close(fd);
        return -EINVAL;
    }
    size_t n = (size_t)st.st_size, done = 0;
    *buf = malloc(n ? n : 1);
    if (!*buf) {
        snprintf(err, errlen, "%s: '%s': out of memory", what, path);
        close(fd);
        return -ENOMEM;
    }
    while (done < n) {
        ssize_t got = read(fd, *buf + done, n - done);
        if (got <= 0) {
            snprintf(err, errlen, "%s: cannot read '%s': %s", what, path,
                     got < 0 ? strerror(errno) : "file shrank");
            close(fd);
            free(*buf);
            *buf = NULL;
            return -EIO;
        }
        done += (size_t)got;
    }
    close(fd);
    *size = n;
    return 0;
}
