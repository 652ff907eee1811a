/* io/replace.c — write to a temporary beside the target, then rename (replace.h). */
#include "io/replace.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sim/evsnn.h"

int replace_tmpname(char *tmp, size_t cap, const char *path) {
    int n = snprintf(tmp, cap, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= cap) {
        if (cap) tmp[0] = 0;
        return evsnn_seterr(EVSNN_EINVAL, "%s: path too long for its temporary name", path);
    }
    return 0;
}

int replace_commit(const char *tmp, const char *path) {
    if (rename(tmp, path) == 0) return 0;
    const int e = errno;
    unlink(tmp);
    return evsnn_seterr(EVSNN_EIO, "%s: cannot rename the temporary file %s into place: %s", path, tmp, strerror(e));
}

void replace_discard(const char *tmp) {
    if (tmp && tmp[0]) unlink(tmp);
}

int replace_fopen(const char *path, char *tmp, size_t cap, FILE **f) {
    *f = NULL;
    int rc = replace_tmpname(tmp, cap, path);
    if (rc) return rc;
    if (!(*f = fopen(tmp, "w"))) return evsnn_seterr(EVSNN_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    return 0;
}

int replace_fclose(FILE *f, const char *tmp, const char *path, int failed) {
    int e = 0; /* errno of the first stdio failure, 0 when the caller's write failed */
    if (!failed && (fflush(f) || ferror(f) || fsync(fileno(f)))) failed = 1, e = errno;
    if (fclose(f) && !failed) failed = 1, e = errno;
    if (failed) {
        unlink(tmp);
        return evsnn_seterr(EVSNN_EIO, "%s: write failed: %s", tmp, e ? strerror(e) : "output error");
    }
    return replace_commit(tmp, path);
}
