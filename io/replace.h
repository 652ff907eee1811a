/* io/replace.h — nothing half-written: every file evsnn writes goes to a temporary name
 * beside its target and is renamed over the target once complete (rename(2) replaces a
 * file atomically within one file system), so a reader sees the old file or the new one,
 * never a part, and a crash or a full disk leaves the previous file in place.
 *
 * The one temporary name is "<path>.tmp.<pid>": beside the target, so on its file system,
 * and distinct per process, so two processes writing one target never share a temporary
 * (the last complete rename wins). A process killed mid-write leaves its temporary behind;
 * nothing reads it. The file is created with the ordinary mode (0666 less the umask).
 *
 * Use: replace_tmpname, write the temporary however the format writes (HDF5, stdio), then
 * replace_commit on success or replace_discard on failure. For stdio text files,
 * replace_fopen / replace_fclose do all of it. Errors: negative EVSNN_E* with a message
 * (sim/evsnn.h). */
#ifndef EVSNN_IO_REPLACE_H
#define EVSNN_IO_REPLACE_H

#include <stddef.h>
#include <stdio.h>

/* Room the temporary name needs beyond strlen(path) (".tmp." + a pid + NUL). */
#define REPLACE_TMP_EXTRA 32

/* The temporary name of path into tmp[cap]: 0, or EVSNN_EINVAL when it does not fit. */
int replace_tmpname(char *tmp, size_t cap, const char *path);

/* Rename tmp over path: 0, or EVSNN_EIO naming path (tmp is removed). */
int replace_commit(const char *tmp, const char *path);

/* Remove from directory dir the temporaries ("<name>.tmp.<pid>") that processes which no
 * longer run left behind (killed mid-write), e.g. before a resumed run rewrites its files.
 * A temporary of a live process is kept. Returns how many were removed. */
int replace_sweep_stale(const char *dir);

/* Remove the temporary after a failed write (a missing one is fine). */
void replace_discard(const char *tmp);

/* Open the temporary of path for writing text into *f; tmp[cap] receives its name.
 * 0, or EVSNN_EINVAL / EVSNN_EIO when it cannot be created. */
int replace_fopen(const char *path, char *tmp, size_t cap, FILE **f);

/* Finish a replace_fopen file: flush, fsync, close, and rename over path; on any failure,
 * or when failed is nonzero (the caller's own write went wrong), remove the temporary and
 * return EVSNN_EIO naming the file. 0 on success. */
int replace_fclose(FILE *f, const char *tmp, const char *path, int failed);

#endif
