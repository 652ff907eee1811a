/* io/ds_readers.h — the reader table: each format reader's open function. dataset.c
 * detects the format and calls one; the readers include io/ds_impl.h only, so dataset.c
 * depends on the readers and they do not depend on it. */
#ifndef EVSNN_DS_READERS_H
#define EVSNN_DS_READERS_H

#include "io/ds_impl.h"

/* Readers: fill d (n_all, labels, split, geo, n_classes, fmt, rd, st). path is d->path. */
int rd_idx_open(dataset *d, const char *path);
int rd_nmnist_open(dataset *d, const char *path, int kind); /* kind: 0 single file, 1 list, 2 folder */
int rd_aedat2_open(dataset *d, const char *path, int version); /* 1 or 2 */
int rd_aedat3_open(dataset *d, const char *path);             /* file or folder */
int rd_h5_open(dataset *d, const char *path);                 /* SHD/SSC, gesture, evsnn */
int rd_svhn_open(dataset *d, const char *path);
int rd_aedat4_open(dataset *d, const char *path);             /* file or folder of *.aedat4 */
int rd_evt_open(dataset *d, const char *path);                /* Prophesee RAW, EVT 2.0 / 3.0 */
int rd_npy_open(dataset *d, const char *path);                /* NumPy .npy arrays */

#endif
