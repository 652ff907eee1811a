/* io/replace.c — write to a temporary beside the target, then rename (replace.h). */
#include "io/replace.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
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

int replace_sweep_stale(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *t = NULL; /* the last ".tmp." */
        for (const char *q = strstr(e->d_name, ".tmp."); q; q = strstr(q + 1, ".tmp.")) t = q;
        if (!t || t == e->d_name) continue;
        char *end;
        errno = 0;
        long pid = strtol(t + 5, &end, 10);
        if (errno || *end || end == t + 5 || pid <= 0 || (pid_t)pid != pid) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or not ours to judge */
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) continue;
        if (unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}
