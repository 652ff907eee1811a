/* kernels/backward.c — backward twins of the synaptic ops (see backward.h). */
#include "backward.h"

#include "conv.h"
#include "rowblock.h"
#include "simd.h"

#include <string.h>

KERNEL_CLONES
void bwd_dense_dw_csc(float *restrict dw, const float *restrict delta, const uint32_t *col_off, const uint32_t *col_t,
                      const float *col_v, uint32_t n_in, uint32_t n_out) {
    for (uint32_t i = 0; i < n_in; i++) {
        if (col_off[i] == col_off[i + 1]) continue;
        float *restrict row = dw + (size_t)i * n_out;
        for (uint32_t k = col_off[i]; k < col_off[i + 1]; k++) {
            const float *restrict d = delta + (size_t)col_t[k] * n_out;
            const float v = col_v ? col_v[k] : 1.0f;
            if (v == 1.0f)
                for (uint32_t j = 0; j < n_out; j++) row[j] += d[j];
            else
                for (uint32_t j = 0; j < n_out; j++) row[j] += v * d[j];
        }
    }
}

KERNEL_CLONES_FMA
void bwd_dense_gin_steps(float *restrict gin, const float *restrict wt, const float *restrict delta, uint32_t T,
                         uint32_t n_in, uint32_t n_out, uint32_t *rows) {
    memset(gin, 0, (size_t)T * n_in * sizeof *gin);
    uint32_t nr = 0;
    for (uint32_t t = 0; t < T; t++) {
        const float *d = delta + (size_t)t * n_out;
        uint32_t j = 0;
        while (j < n_out && d[j] == 0.0f) j++;
        if (j < n_out) rows[nr++] = t;
    }
    enum { STRIP = 32 }; /* columns of wt kept in L1 while every row block passes */
    for (uint32_t i0 = 0; i0 < n_in; i0 += STRIP) {
        const uint32_t w = n_in - i0 < STRIP ? n_in - i0 : STRIP;
        float *dst[ROWBLOCK_R];
        const float *dr[ROWBLOCK_R];
        int nb = 0;
        for (uint32_t k = 0; k < nr; k++) {
            dst[nb] = gin + (size_t)rows[k] * n_in + i0;
            dr[nb] = delta + (size_t)rows[k] * n_out;
            if (++nb == ROWBLOCK_R) {
                rowblock(dst, dr, wt + i0, n_in, n_out, w, ROWBLOCK_R);
                nb = 0;
            }
        }
        if (nb) rowblock(dst, dr, wt + i0, n_in, n_out, w, nb);
    }
}

KERNEL_CLONES
float sum_f32(const float *x, uint32_t n) {
    float s[8] = {0};
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += x[i + j];
    float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) r += x[i];
    return r;
}

void bwd_conv_full(float *full, const float *w, const float *b, const uint32_t *idx, const float *val,
                   uint32_t n_ev, const bwd_conv_geom *g) {
    const uint32_t ch = g->conv_h, cw = g->conv_w, plane = g->in_h * g->in_w;
    for (uint32_t o = 0; o < g->out_c; o++)
        for (uint32_t i = 0; i < ch * cw; i++) full[o * ch * cw + i] = b ? b[o] : 0.0f;
    /* The forward's footprint scatter, onto the full conv map. */
    const conv_geom cg = {.in_c = g->in_c, .out_c = g->out_c, .k = g->k, .pad = g->pad,
                          .limh = ch, .limw = cw, .p = 1, .th = ch, .tw = cw};
    for (uint32_t e = 0; e < n_ev; e++)
        conv_scatter_ref(full, w, &cg, idx[e] / plane, idx[e] % plane / g->in_w, idx[e] % g->in_w, val ? val[e] : 1.0f);
}

void bwd_conv_dw(float *dw, const float *dfull, const uint32_t *idx, const float *val, uint32_t n_ev,
                 const bwd_conv_geom *g) {
    const uint32_t k = g->k, ch = g->conv_h, cw = g->conv_w, plane = g->in_h * g->in_w;
    for (uint32_t e = 0; e < n_ev; e++) {
        const uint32_t c = idx[e] / plane, y = idx[e] % plane / g->in_w, x = idx[e] % g->in_w;
        const float v = val ? val[e] : 1.0f;
        for (uint32_t o = 0; o < g->out_c; o++)
            for (uint32_t ky = 0; ky < k; ky++) {
                const int oy = (int)y + (int)g->pad - (int)ky;
                if (oy < 0 || oy >= (int)ch) continue;
                for (uint32_t kx = 0; kx < k; kx++) {
                    const int ox = (int)x + (int)g->pad - (int)kx;
                    if (ox < 0 || ox >= (int)cw) continue;
                    dw[((o * g->in_c + c) * k + ky) * k + kx] += v * dfull[(o * ch + (uint32_t)oy) * cw + (uint32_t)ox];
                }
            }
    }
}

/* Loop order o, c, ky, kx outside and output rows inside: the innermost loop runs along a
 * row of dfull and of gin with the in-range span computed once, so it has no branches. */
KERNEL_CLONES
void bwd_conv_gin(float *restrict gin, const float *restrict w, const float *restrict dfull, const bwd_conv_geom *g) {
    const int k = (int)g->k, ch = (int)g->conv_h, cw = (int)g->conv_w, pad = (int)g->pad;
    const int ih = (int)g->in_h, iw = (int)g->in_w;
    for (uint32_t o = 0; o < g->out_c; o++) {
        const float *restrict df = dfull + (size_t)o * ch * cw;
        for (uint32_t c = 0; c < g->in_c; c++) {
            float *restrict gi = gin + (size_t)c * ih * iw;
            const float *restrict wk = w + ((size_t)o * g->in_c + c) * k * k;
            for (int ky = 0; ky < k; ky++) {
                const int oy0 = pad - ky > 0 ? pad - ky : 0, oy1 = ih + pad - ky < ch ? ih + pad - ky : ch;
                for (int kx = 0; kx < k; kx++) {
                    const float wv = wk[ky * k + kx];
                    const int ox0 = pad - kx > 0 ? pad - kx : 0, ox1 = iw + pad - kx < cw ? iw + pad - kx : cw;
                    for (int oy = oy0; oy < oy1; oy++) {
                        float *restrict grow = gi + (size_t)(oy + ky - pad) * iw + (kx - pad);
                        const float *restrict drow = df + (size_t)oy * cw;
                        for (int ox = ox0; ox < ox1; ox++) grow[ox] += wv * drow[ox];
                    }
                }
            }
        }
    }
}

void bwd_pool(float *gin, const float *gout, const float *x, uint32_t C, uint32_t H, uint32_t W, uint32_t p, int kind) {
    const uint32_t oh = H / p, ow = W / p;
    const float s = kind == BWD_POOL_AVG ? 1.0f / (float)(p * p) : 1.0f;
    for (uint32_t c = 0; c < C; c++)
        for (uint32_t py = 0; py < oh; py++)
            for (uint32_t px = 0; px < ow; px++) {
                const float g = gout[(c * oh + py) * ow + px];
                if (g == 0.0f) continue;
                const size_t base = ((size_t)c * H + py * p) * W + px * p;
                if (kind == BWD_POOL_MAX) {
                    size_t best = base;
                    for (uint32_t dy = 0; dy < p; dy++)
                        for (uint32_t dx = 0; dx < p; dx++) {
                            const size_t i = base + (size_t)dy * W + dx;
                            if (x[i] > x[best]) best = i; /* strict: the first maximum wins */
                        }
                    gin[best] += g;
                } else {
                    for (uint32_t dy = 0; dy < p; dy++)
                        for (uint32_t dx = 0; dx < p; dx++) gin[base + (size_t)dy * W + dx] += g * s;
                }
            }
}
