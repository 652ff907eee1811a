/* tests/fuzz_nmnist_list.c — libFuzzer harness: N-MNIST sample lists and folders. The input
 * is split at its first 0xFF byte: before it, a list file's text (the `#sample #class` list
 * form, written as test.txt); after it, the bytes of four samples (split in four equal
 * parts), written as bin/1.bin .. bin/4.bin and as Train/<digit>/<n>.bin of the original
 * tree. The list file, the folder of lists and the tree are opened by detection and every
 * sample read: each opens or fails with a message, never crashes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz_util.h"

static char dir[64];

static void put(const char *name, const uint8_t *b, size_t n) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fwrite(b, 1, n, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/evsnn-fuzz-nml-%ld", (long)getpid());
        mkdir(dir, 0700);
        char p[128];
        snprintf(p, sizeof p, "%s/bin", dir), mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/tree", dir), mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/tree/Train", dir), mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/tree/Train/3", dir), mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/tree/Test", dir), mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/tree/Test/7", dir), mkdir(p, 0700);
    }
    const uint8_t *sep = memchr(data, 0xFF, size);
    const size_t tl = sep ? (size_t)(sep - data) : size;
    const uint8_t *rest = sep ? sep + 1 : data + size;
    const size_t rn = sep ? size - tl - 1 : 0, q = rn / 4;
    put("test.txt", data, tl);
    static const char *bins[4] = {"bin/1.bin", "bin/2.bin", "bin/3.bin", "bin/4.bin"};
    static const char *tree[4] = {"tree/Train/3/00001.bin", "tree/Train/3/00002.bin", "tree/Test/7/00001.bin",
                                  "tree/Test/7/00002.bin"};
    for (int k = 0; k < 4; k++) {
        const size_t len = k == 3 ? rn - 3 * q : q;
        put(bins[k], rest + k * q, len);
        put(tree[k], rest + k * q, len);
    }
    char p[128];
    snprintf(p, sizeof p, "%s/test.txt", dir);
    fuzz_ds_read(p, 6);  /* a list file */
    fuzz_ds_read(dir, 6); /* a folder of lists (test*.txt) */
    snprintf(p, sizeof p, "%s/tree", dir);
    fuzz_ds_read(p, 6); /* the original Train/ Test/ tree */
    return 0;
}
