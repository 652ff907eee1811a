/* kernels/rowblock.h — the register-blocked product shared by the input-gradient kernels
 * (kernels/conv.c, kernels/backward.c): R rows of a sparse-by-rows left operand times a
 * panel, accumulated into R output rows. Included only by kernel sources; the functions are
 * static inline so that each target clone compiles them for its own instruction set. */
#ifndef EVSNN_KERNELS_ROWBLOCK_H
#define EVSNN_KERNELS_ROWBLOCK_H

#include <stdint.h>

typedef float v8f __attribute__((vector_size(32)));
typedef float v8fu __attribute__((vector_size(32), aligned(4))); /* unaligned loads and stores */

/* Rows per block: each loaded panel vector serves R rows (2R accumulators + 2 loads + a
 * broadcast fit the sixteen vector registers). */
enum { ROWBLOCK_R = 6 };

/* dst[r][0..w) += Σ_c dr[r][c] · P[c·ldp + 0..w) for R rows, 16 columns (two vectors) at a
 * time, the accumulators in registers while the c loop streams the panel. w % 8 == 0. */
static inline __attribute__((always_inline)) void rowblock_v(float *const *dst, const float *const *dr,
                                                               const float *restrict P, uint32_t ldp, uint32_t C,
                                                               uint32_t w, const int R) {
    uint32_t j = 0;
    for (; j + 16 <= w; j += 16) {
        v8f a0[ROWBLOCK_R], a1[ROWBLOCK_R];
        for (int r = 0; r < R; r++) a0[r] = a1[r] = (v8f){0};
        for (uint32_t c = 0; c < C; c++) {
            const float *m = P + (uint64_t)c * ldp + j;
            const v8f m0 = *(const v8fu *)m, m1 = *(const v8fu *)(m + 8);
            for (int r = 0; r < R; r++) {
                const float x = dr[r][c];
                const v8f b = {x, x, x, x, x, x, x, x};
                a0[r] += b * m0;
                a1[r] += b * m1;
            }
        }
        for (int r = 0; r < R; r++) {
            *(v8fu *)(dst[r] + j) += a0[r];
            *(v8fu *)(dst[r] + j + 8) += a1[r];
        }
    }
    if (j < w) { /* w ≡ 8 (mod 16) */
        v8f a0[ROWBLOCK_R];
        for (int r = 0; r < R; r++) a0[r] = (v8f){0};
        for (uint32_t c = 0; c < C; c++) {
            const v8f m0 = *(const v8fu *)(P + (uint64_t)c * ldp + j);
            for (int r = 0; r < R; r++) {
                const float x = dr[r][c];
                a0[r] += (v8f){x, x, x, x, x, x, x, x} * m0;
            }
        }
        for (int r = 0; r < R; r++) *(v8fu *)(dst[r] + j) += a0[r];
    }
}

/* The same for any R ≤ ROWBLOCK_R and any width (plain loops when w is not a multiple of 8). */
static inline __attribute__((always_inline)) void rowblock(float *const *dst, const float *const *dr, const float *P,
                                                             uint32_t ldp, uint32_t C, uint32_t w, int R) {
    if (w % 8 == 0) {
        switch (R) {
        case 6: rowblock_v(dst, dr, P, ldp, C, w, 6); return;
        case 5: rowblock_v(dst, dr, P, ldp, C, w, 5); return;
        case 4: rowblock_v(dst, dr, P, ldp, C, w, 4); return;
        case 3: rowblock_v(dst, dr, P, ldp, C, w, 3); return;
        case 2: rowblock_v(dst, dr, P, ldp, C, w, 2); return;
        default: rowblock_v(dst, dr, P, ldp, C, w, 1); return;
        }
    }
    for (int r = 0; r < R; r++)
        for (uint32_t c = 0; c < C; c++) {
            const float v = dr[r][c];
            for (uint32_t i = 0; i < w; i++) dst[r][i] += v * P[(uint64_t)c * ldp + i];
        }
}

/* One row with a list of its non-zero entries: dst[0..w) += Σ_k dv[k] · P[cs[k]·ldp + 0..w),
 * 32 columns (four vectors) in registers at a time. */
static inline __attribute__((always_inline)) void rowblock_list(float *const *dst, const float *const *dv,
                                                                  const float *restrict P, uint32_t ldp,
                                                                  const uint32_t *restrict cs, uint32_t m, uint32_t w) {
    float *o = dst[0];
    const float *v = dv[0];
    uint32_t j = 0;
    if (w % 8 == 0) {
        for (; j + 32 <= w; j += 32) {
            v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
            for (uint32_t k = 0; k < m; k++) {
                const float x = v[k];
                const v8f b = {x, x, x, x, x, x, x, x};
                const float *p = P + (uint64_t)cs[k] * ldp + j;
                a0 += b * *(const v8fu *)p;
                a1 += b * *(const v8fu *)(p + 8);
                a2 += b * *(const v8fu *)(p + 16);
                a3 += b * *(const v8fu *)(p + 24);
            }
            *(v8fu *)(o + j) += a0;
            *(v8fu *)(o + j + 8) += a1;
            *(v8fu *)(o + j + 16) += a2;
            *(v8fu *)(o + j + 24) += a3;
        }
        for (; j < w; j += 8) {
            v8f a0 = {0};
            for (uint32_t k = 0; k < m; k++) {
                const float x = v[k];
                a0 += (v8f){x, x, x, x, x, x, x, x} * *(const v8fu *)(P + (uint64_t)cs[k] * ldp + j);
            }
            *(v8fu *)(o + j) += a0;
        }
        return;
    }
    for (uint32_t k = 0; k < m; k++)
        for (uint32_t i = 0; i < w; i++) o[i] += v[k] * P[(uint64_t)cs[k] * ldp + i];
}

#endif
