/* apps/cmd_plot.c — `evsnn plot DIR`: the figures of a study (DIR from `evsnn sweep`), as
 * PNG through gnuplot, named after the papers' figures so a reader can put them side by side:
 *
 *   seed000_fig1_slope.png        accuracy and FPS/W against the surrogate's slope, one
 *                                 curve per surrogate (means over the other axes)
 *   seed000_fig2_accuracy.png     β × θ heat map of accuracy (means over the other axes)
 *   seed000_fig2_latency.png      β × θ heat map of accelerator latency (ms)
 *   seed004_fig4_membrane.png     output-layer membrane traces on a test sample with the
 *                                 threshold, one panel per variant / threshold mode
 *   seed004_fig5_activity.png     per-layer distribution of spike counts per neuron, with
 *                                 threshold annealing and without
 *   seed004_fig6_loss.png         training loss per step with the threshold trajectory
 *
 * A figure whose axes the study did not vary (e.g. one β and one θ) is skipped and listed
 * as such in the JSON on stdout. The gnuplot script and data of each figure are kept next
 * to it (DIR/plots/NAME.gp, NAME.dat), so a figure can be restyled by hand. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/cmds.h"
#include "apps/gnuplot.h"
#include "apps/json.h"
#include "io/study.h"
#include "sim/evsnn.h"

static const char *usage_text =
    "usage: evsnn plot DIR [-o PLOTDIR]\n"
    "\n"
    "Draw the figures of a study run by 'evsnn sweep ... -o DIR' (PNG, gnuplot), named after\n"
    "the papers' figures:\n"
    "  seed000_fig1_slope.png     accuracy and FPS/W vs surrogate slope, one curve per surrogate\n"
    "  seed000_fig2_accuracy.png  beta x theta heat map of accuracy\n"
    "  seed000_fig2_latency.png   beta x theta heat map of accelerator latency\n"
    "  seed004_fig4_membrane.png  output membrane traces on a test sample, with the threshold\n"
    "  seed004_fig5_activity.png  per-layer spike-count distributions, annealing vs fixed threshold\n"
    "  seed004_fig6_loss.png      training loss and threshold trajectory per step\n"
    "Values are means over the trials that share the plotted settings (status ok only).\n"
    "Figures the study has no data for are skipped (listed in the JSON output).\n"
    "\n"
    "  -o, --output PLOTDIR   where to write (default DIR/plots); scripts and data go beside\n"
    "\n"
    "Output: one JSON object listing written and skipped figures.\n"
    "Exit status: 0 success, 1 gnuplot or file failure, 2 bad usage or no readable table.\n";

typedef struct {
    const char *dir, *out;
    study_row *r;
    uint32_t n;
    char written[8][64], skipped[8][160];
    int n_written, n_skipped;
} ctx;

static void skip(ctx *c, const char *name, const char *why) {
    if (c->n_skipped < 8) snprintf(c->skipped[c->n_skipped++], 160, "%s: %s", name, why);
}

/* Keep NAME.gp beside the figure (to restyle by hand: `gnuplot NAME.gp` after a `set
 * terminal`/`set output` of one's choice) and draw NAME.png through the gnuplot helper, its
 * messages in NAME.log. */
static int run_gnuplot(ctx *c, const char *name, const char *script) {
    char gp[4096], png[4096], log[4096];
    snprintf(gp, sizeof gp, "%s/%s.gp", c->out, name);
    snprintf(png, sizeof png, "%s/%s.png", c->out, name);
    snprintf(log, sizeof log, "%s/%s.log", c->out, name);
    FILE *f = fopen(gp, "w");
    if (!f) return evsnn_seterr(EVSNN_EIO, "%s: cannot write: %s", gp, strerror(errno));
    fputs(script, f);
    if (fclose(f)) return evsnn_seterr(EVSNN_EIO, "%s: cannot write", gp);
    int rc = gnuplot_png(png, "1000,440", script, log);
    if (rc) return rc;
    if (c->n_written < 8) snprintf(c->written[c->n_written++], 64, "%s.png", name);
    return 0;
}

/* A y range that includes every value and spans at least 10% of their mean, so that a
 * spread of a fraction of a percent is not drawn as a cliff. */
static void yrange_min_span(char *buf, size_t cap, const double *v, uint32_t n) {
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (isfinite(v[i])) lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi, sum += v[i], m++;
    if (!m) { snprintf(buf, cap, "set autoscale y\n"); return; }
    const double mean = sum / m, want = 0.1 * fabs(mean);
    if (hi - lo < want) {
        const double mid = (hi + lo) / 2;
        lo = mid - want / 2, hi = mid + want / 2;
    } else {
        const double pad = 0.05 * (hi - lo);
        lo -= pad, hi += pad;
    }
    if (lo < 0 && mean >= 0 && (hi - lo) * 0.5 > mean) lo = 0;
    snprintf(buf, cap, "set yrange [%.9g:%.9g]\n", lo, hi);
}

static FILE *open_dat(ctx *c, const char *name, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s.dat", c->out, name);
    FILE *f = fopen(path, "w");
    if (!f) evsnn_seterr(EVSNN_EIO, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

static int ok(const study_row *r) { return r->status == STUDY_OK; }

/* Variants set slope, beta and theta together (seed 004's comparison): the seed 000 figures
 * need those as independent axes. */
static int has_variants(const ctx *c) {
    for (uint32_t i = 0; i < c->n; i++)
        if (c->r[i].t.variant[0]) return 1;
    return 0;
}

/* Distinct values (sorted) of a float field over ok rows. */
static uint32_t distinct(const ctx *c, size_t off, double *v, uint32_t cap) {
    uint32_t m = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        if (!ok(&c->r[i])) continue;
        const double x = *(const float *)((const char *)&c->r[i].t + off);
        uint32_t j = 0;
        while (j < m && v[j] != x) j++;
        if (j == m && m < cap) v[m++] = x;
    }
    for (uint32_t i = 1; i < m; i++)
        for (uint32_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return m;
}

/* seed 000 Fig. 1: accuracy and FPS/W against slope, one curve per surrogate. */
static int fig1(ctx *c) {
    const char *name = "seed000_fig1_slope";
    double slopes[64];
    const uint32_t ns = distinct(c, offsetof(study_trial, slope), slopes, 64);
    char surr[16][32];
    uint32_t nsu = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        if (!ok(&c->r[i])) continue;
        uint32_t j = 0;
        while (j < nsu && strcmp(surr[j], c->r[i].t.surrogate)) j++;
        if (j == nsu && nsu < 16) snprintf(surr[nsu++], 32, "%s", c->r[i].t.surrogate);
    }
    if (has_variants(c)) { skip(c, name, "the study's variants set the slope; it needs slope as an axis"); return 0; }
    if (ns < 2) { skip(c, name, "the study has fewer than two slopes"); return 0; }
    char path[4096];
    FILE *f = open_dat(c, name, path, sizeof path);
    if (!f) return EVSNN_EIO;
    fprintf(f, "# slope accuracy_percent fps_per_w trials; one block per surrogate (gnuplot index)\n");
    double acc_v[64 * 16] = {0}, eff_v[64 * 16] = {0};
    uint32_t nv = 0;
    for (uint32_t s = 0; s < nsu; s++) {
        fprintf(f, "# %s\n", surr[s]);
        for (uint32_t k = 0; k < ns; k++) {
            double a = 0, e = 0;
            uint32_t m = 0;
            for (uint32_t i = 0; i < c->n; i++) {
                const study_row *r = &c->r[i];
                if (!ok(r) || strcmp(r->t.surrogate, surr[s]) || (double)r->t.slope != slopes[k]) continue;
                a += r->accuracy;
                e += r->fps_per_w;
                m++;
            }
            if (m) {
                fprintf(f, "%.9g %.9g %.9g %u\n", slopes[k], 100 * a / m, e / m, m);
                acc_v[nv] = 100 * a / m, eff_v[nv] = e / m, nv++;
            }
        }
        fprintf(f, "\n\n");
    }
    fclose(f);
    char sc[32768], q[4200], t[160], yr[128];
    gnuplot_path(q, sizeof q, path);
    yrange_min_span(yr, sizeof yr, acc_v, nv);
    int len = snprintf(sc, sizeof sc,
                       "set multiplot layout 1,2 title 'Accuracy and accelerator efficiency against the surrogate slope (cf. seed 000, Fig. 1)'\n"
                       "set logscale x\nset grid\nset key bottom right\nset xlabel 'surrogate slope (k; alpha for atan; dimensionless)'\n"
                       "set ylabel 'test accuracy (%%)'\n%splot ", yr);
    for (uint32_t s = 0; s < nsu; s++)
        len += snprintf(sc + len, sizeof sc - (size_t)len, "%s%s index %u using 1:2 with linespoints lw 2 title %s",
                        s ? ", " : "", q, s, gnuplot_str(t, sizeof t, surr[s]));
    yrange_min_span(yr, sizeof yr, eff_v, nv);
    len += snprintf(sc + len, sizeof sc - (size_t)len,
                    "\nset ylabel 'accelerator efficiency (frames per second per watt)'\nset format y '%%.1s%%c'\n%splot ", yr);
    for (uint32_t s = 0; s < nsu; s++)
        len += snprintf(sc + len, sizeof sc - (size_t)len, "%s%s index %u using 1:3 with linespoints lw 2 title %s",
                        s ? ", " : "", q, s, gnuplot_str(t, sizeof t, surr[s]));
    snprintf(sc + len, sizeof sc - (size_t)len, "\nunset multiplot\n");
    return run_gnuplot(c, name, sc);
}

/* seed 000 Fig. 2: β × θ heat maps (accuracy, latency). Cells are placed by index so
 * uneven grids still draw as a regular map; tic labels give the values. */
static int fig2(ctx *c) {
    double be[64], th[64];
    const uint32_t nb = distinct(c, offsetof(study_trial, beta), be, 64);
    const uint32_t nt = distinct(c, offsetof(study_trial, theta), th, 64);
    if (has_variants(c)) {
        skip(c, "seed000_fig2_accuracy", "the study's variants set beta and theta; they need to be axes");
        skip(c, "seed000_fig2_latency", "the study's variants set beta and theta; they need to be axes");
        return 0;
    }
    if (nb < 2 || nt < 2) {
        skip(c, "seed000_fig2_accuracy", "the study has fewer than two beta or theta values");
        skip(c, "seed000_fig2_latency", "the study has fewer than two beta or theta values");
        return 0;
    }
    for (int which = 0; which < 2; which++) {
        const char *name = which ? "seed000_fig2_latency" : "seed000_fig2_accuracy";
        char path[4096];
        FILE *f = open_dat(c, name, path, sizeof path);
        if (!f) return EVSNN_EIO;
        fprintf(f, "# beta_index theta_index value (%s, mean over trials); beta and theta values in the .gp tics\n",
                which ? "latency_us" : "accuracy %");
        for (uint32_t i = 0; i < nb; i++) {
            for (uint32_t j = 0; j < nt; j++) {
                double s = 0;
                uint32_t m = 0;
                for (uint32_t k = 0; k < c->n; k++) {
                    const study_row *r = &c->r[k];
                    if (!ok(r) || (double)r->t.beta != be[i] || (double)r->t.theta != th[j]) continue;
                    s += which ? r->latency_us : 100 * r->accuracy;
                    m++;
                }
                if (m) fprintf(f, "%u %u %.6g\n", i, j, s / m);
                else fprintf(f, "%u %u NaN\n", i, j);
            }
            fputc('\n', f);
        }
        fclose(f);
        char sc[32768], xt[2048] = "", yt[2048] = "", q[4200];
        int lx = 0, ly = 0;
        for (uint32_t i = 0; i < nb; i++) lx += snprintf(xt + lx, sizeof xt - (size_t)lx, "%s\"%.3g\" %u", i ? ", " : "", be[i], i);
        for (uint32_t j = 0; j < nt; j++) ly += snprintf(yt + ly, sizeof yt - (size_t)ly, "%s\"%.3g\" %u", j ? ", " : "", th[j], j);
        snprintf(sc, sizeof sc,
                 "set title '%s over beta x theta, mean of the trials in each cell (cf. seed 000, Fig. 2)'\nset size ratio -1\n"
                 "set xlabel 'beta (membrane decay per step, dimensionless)'\nset ylabel 'theta (firing threshold, dimensionless)'\n"
                 "set xtics (%s)\nset ytics (%s)\n"
                 "set xrange [-0.5:%u.5]\nset yrange [-0.5:%u.5]\nset cblabel '%s'\nset palette %s\n"
                 /* each cell's value on an opaque white box, readable on any colour */
                 "set style textbox opaque fillcolor 'white' noborder\n"
                 "plot %s using 1:2:($3/%s) with image notitle, '' using 1:2:(sprintf('%%.1f',$3/%s)) with labels boxed notitle\n",
                 which ? "Accelerator latency" : "Test accuracy", xt, yt, nb - 1, nt - 1,
                 which ? "accelerator latency per sample (ms)" : "test accuracy (%)",
                 which ? "rgbformulae 21,22,23" : "rgbformulae 33,13,10", gnuplot_path(q, sizeof q, path),
                 which ? "1000." : "1.", which ? "1000." : "1.");
        int rc = run_gnuplot(c, name, sc);
        if (rc) return rc;
    }
    return 0;
}

/* The label of a trial in the seed 004 figures: its variant, else its threshold mode and
 * whether it is binarized. */
static void label(const study_row *r, char *b, size_t cap) {
    if (r->t.variant[0]) snprintf(b, cap, "%s", r->t.variant);
    else snprintf(b, cap, "%s%s", r->t.binarize ? "binarized, " : "", !strncmp(r->t.threshold, "anneal", 6) ? "THA" : "fixed threshold");
}

/* Up to 4 representative trials: the first ok trial of each distinct label. */
static uint32_t representatives(const ctx *c, uint32_t *ids, char lab[][96]) {
    uint32_t m = 0;
    for (uint32_t i = 0; i < c->n && m < 4; i++) {
        if (!ok(&c->r[i])) continue;
        char b[96];
        label(&c->r[i], b, sizeof b);
        uint32_t j = 0;
        while (j < m && strcmp(lab[j], b)) j++;
        if (j < m) continue;
        ids[m] = c->r[i].t.id;
        snprintf(lab[m], 96, "%s", b);
        m++;
    }
    return m;
}

static int side_path(const ctx *c, uint32_t id, const char *ext, char *p, size_t cap) {
    snprintf(p, cap, "%s/trials/%04u.%s", c->dir, id, ext);
    return access(p, R_OK) == 0;
}

/* seed 004 Fig. 4: membrane traces of the output neurons with the threshold. */
static int fig4(ctx *c) {
    const char *name = "seed004_fig4_membrane";
    uint32_t ids[4];
    char lab[4][96];
    const uint32_t m = representatives(c, ids, lab);
    char sc[32768], p[4096], q[4200], t[512];
    int len = snprintf(sc, sizeof sc, "set multiplot layout 1,%u title 'Output membrane potential on test sample 0 (cf. seed 004, Fig. 4)'\n"
                                      "set grid\nset xlabel 'time step'\nset ylabel 'membrane potential u (units of the input current)'\n"
                                      "set key top left\n", m ? m : 1);
    uint32_t drawn = 0;
    for (uint32_t k = 0; k < m; k++) {
        if (!side_path(c, ids[k], "mem", p, sizeof p)) continue;
        FILE *f = fopen(p, "r");
        char line[4096];
        uint32_t cols = 0;
        while (f && fgets(line, sizeof line, f))
            if (line[0] != '#') {
                char *s = line;
                cols = 0;
                while (*s) {
                    while (*s == ' ') s++;
                    if (*s && *s != '\n') cols++;
                    while (*s && *s != ' ') s++;
                }
                break;
            }
        if (f) fclose(f);
        if (cols < 3) continue;
        snprintf(t, sizeof t, "%s (trial %u)", lab[k], ids[k]);
        len += snprintf(sc + len, sizeof sc - (size_t)len, "set title %s\nplot %s using 1:2 with lines dt 2 lw 2 lc rgb 'black' title 'threshold'",
                        gnuplot_str(q, sizeof q, t), gnuplot_path(q + 300, sizeof q - 300, p));
        /* one legend entry per output neuron (its class), up to ten */
        for (uint32_t j = 3; j <= cols && j < 3 + 10; j++)
            len += snprintf(sc + len, sizeof sc - (size_t)len, ", '' using 1:%u with lines lw 1.5 title 'class %u'", j, j - 3);
        len += snprintf(sc + len, sizeof sc - (size_t)len, "\n");
        drawn++;
    }
    if (!drawn) { skip(c, name, "no membrane traces (no ok trial)"); return 0; }
    snprintf(sc + len, sizeof sc - (size_t)len, "unset multiplot\n");
    return run_gnuplot(c, name, sc);
}

/* seed 004 Fig. 5: spike-count distributions per layer, annealed vs fixed threshold (sums
 * of the neuron-sample histograms of all ok trials of each kind, as fractions). */
static int fig5(ctx *c) {
    const char *name = "seed004_fig5_activity";
    enum { NB = 8 };
    double h[2][STUDY_MAX_LAYERS][NB];
    memset(h, 0, sizeof h);
    uint32_t L = 0, have[2] = {0, 0};
    char p[4096], names[STUDY_MAX_LAYERS][64];
    for (uint32_t l = 0; l < STUDY_MAX_LAYERS; l++) snprintf(names[l], sizeof names[l], "layer %u", l);
    for (uint32_t i = 0; i < c->n; i++) {
        const study_row *r = &c->r[i];
        if (!ok(r) || !side_path(c, r->t.id, "hist", p, sizeof p)) continue;
        const int a = !strncmp(r->t.threshold, "anneal", 6);
        FILE *f = fopen(p, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            if (line[0] == '#') continue;
            unsigned l, nn;
            char nm[64];
            unsigned long long b[NB];
            if (sscanf(line, "%u %63s %u %llu %llu %llu %llu %llu %llu %llu %llu", &l, nm, &nn, &b[0], &b[1], &b[2], &b[3],
                       &b[4], &b[5], &b[6], &b[7]) != 11 || l >= STUDY_MAX_LAYERS)
                continue;
            for (int k = 0; k < NB; k++) h[a][l][k] += (double)b[k];
            snprintf(names[l], sizeof names[l], "%.40s (%u neurons)", nm, nn); /* the layer's name: fc1, conv2, ... */
            if (l + 1 > L) L = l + 1;
        }
        if (f) fclose(f);
        have[a]++;
    }
    if (!have[0] && !have[1]) { skip(c, name, "no spike-count histograms (no ok trial)"); return 0; }
    FILE *f = open_dat(c, name, p, sizeof p);
    if (!f) return EVSNN_EIO;
    static const char *const bins[NB] = {"0", "1", "2-3", "4-7", "8-15", "16-31", "32-63", ">=64"};
    fprintf(f, "# one block per layer: bin fixed_fraction annealed_fraction\n");
    for (uint32_t l = 0; l < L; l++) {
        double s0 = 0, s1 = 0;
        for (int k = 0; k < NB; k++) { s0 += h[0][l][k]; s1 += h[1][l][k]; }
        for (int k = 0; k < NB; k++)
            fprintf(f, "\"%s\" %.6g %.6g\n", bins[k], s0 > 0 ? h[0][l][k] / s0 : 0, s1 > 0 ? h[1][l][k] / s1 : 0);
        fprintf(f, "\n\n");
    }
    fclose(f);
    char sc[32768], q[4200], t[160];
    gnuplot_path(q, sizeof q, p);
    int len = snprintf(sc, sizeof sc,
                       "set multiplot layout 1,%u title 'Spikes per neuron per test sample, %s (cf. seed 004, Fig. 5)'\n"
                       "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
                       "set grid y\nset ylabel 'fraction of neuron-samples'\nset xlabel 'spikes per neuron and sample'\n"
                       "set xtics rotate by -45\nset yrange [0:1]\n", L,
                       have[0] && have[1] ? "with threshold annealing (THA) and without" : have[1] ? "threshold annealing (THA)" : "fixed threshold");
    /* only the kinds the study has: no empty "(0 trials)" series */
    for (uint32_t l = 0; l < L; l++) {
        len += snprintf(sc + len, sizeof sc - (size_t)len, "set title %s\nplot ", gnuplot_str(t, sizeof t, names[l]));
        if (have[0])
            len += snprintf(sc + len, sizeof sc - (size_t)len, "%s index %u using 2:xtic(1) title 'fixed threshold (%u trial%s)'",
                            q, l, have[0], have[0] == 1 ? "" : "s");
        if (have[1])
            len += snprintf(sc + len, sizeof sc - (size_t)len, "%s%s index %u using 3%s title 'THA (%u trial%s)'", have[0] ? ", " : "",
                            q, l, have[0] ? "" : ":xtic(1)", have[1], have[1] == 1 ? "" : "s");
        len += snprintf(sc + len, sizeof sc - (size_t)len, "\n");
    }
    snprintf(sc + len, sizeof sc - (size_t)len, "unset multiplot\n");
    return run_gnuplot(c, name, sc);
}

/* seed 004 Fig. 6: training loss per step and the threshold of the first spiking layer. */
static int fig6(ctx *c) {
    const char *name = "seed004_fig6_loss";
    uint32_t ids[4];
    char lab[4][96];
    const uint32_t m = representatives(c, ids, lab);
    char sc[32768], p[4096], q[4200], t1[1100], t2[1100], b[512];
    int len = snprintf(sc, sizeof sc, "set title 'Training loss and threshold per step (cf. seed 004, Fig. 6)'\nset grid\n"
                                      "set xlabel 'optimizer step'\nset ylabel 'training loss (batch mean)'\n"
                                      "set y2label 'threshold of the first spiking layer (dimensionless)'\n"
                                      "set ytics nomirror\nset y2tics\nset key top right\nplot ");
    uint32_t drawn = 0;
    for (uint32_t k = 0; k < m; k++) {
        if (!side_path(c, ids[k], "series", p, sizeof p)) continue;
        snprintf(b, sizeof b, "loss, %s", lab[k]);
        gnuplot_str(t1, sizeof t1, b);
        snprintf(b, sizeof b, "threshold, %s", lab[k]);
        gnuplot_str(t2, sizeof t2, b);
        len += snprintf(sc + len, sizeof sc - (size_t)len,
                        "%s%s using 1:3 with lines lw 1.5 lc %u title %s, '' using 1:4 axes x1y2 with lines dt 2 lw 2 lc %u title %s",
                        drawn ? ", " : "", gnuplot_path(q, sizeof q, p), k + 1, t1, k + 1, t2);
        drawn++;
    }
    if (!drawn) { skip(c, name, "no training series (no ok trial)"); return 0; }
    snprintf(sc + len, sizeof sc - (size_t)len, "\n");
    return run_gnuplot(c, name, sc);
}

int cmd_plot(int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "evsnn plot: expected one study directory (see 'evsnn plot --help')\n");
        return 2;
    }
    ctx X;
    memset(&X, 0, sizeof X);
    X.dir = argv[optind];
    char csv[4096], od[4096];
    snprintf(csv, sizeof csv, "%s/study.csv", X.dir);
    if (access(csv, R_OK)) {
        fprintf(stderr, "evsnn plot: %s: no study table (run 'evsnn sweep STUDY -o %s' first)\n", csv, X.dir);
        return 2;
    }
    if (study_read_csv(csv, &X.r, &X.n)) {
        fprintf(stderr, "evsnn plot: %s\n", evsnn_errmsg());
        return 2;
    }
    snprintf(od, sizeof od, "%s", out ? out : "");
    if (!out) snprintf(od, sizeof od, "%s/plots", X.dir);
    X.out = od;
    if (mkdir(od, 0755) && errno != EEXIST) {
        fprintf(stderr, "evsnn plot: cannot create %s: %s\n", od, strerror(errno));
        free(X.r);
        return 1;
    }
    int rc = fig1(&X);
    if (!rc) rc = fig2(&X);
    if (!rc) rc = fig4(&X);
    if (!rc) rc = fig5(&X);
    if (!rc) rc = fig6(&X);
    if (rc) {
        fprintf(stderr, "evsnn plot: %s\n", evsnn_errmsg());
        free(X.r);
        return 1;
    }
    json_t *o = json_object(), *w = json_array(), *sk = json_array();
    jset(o, "dir", jstr(od));
    jset(o, "trials", jint(X.n));
    for (int i = 0; i < X.n_written; i++) json_array_append_new(w, jstr(X.written[i]));
    for (int i = 0; i < X.n_skipped; i++) json_array_append_new(sk, jstr(X.skipped[i]));
    jset(o, "written", w);
    jset(o, "skipped", sk);
    jprint(stdout, o);
    free(X.r);
    return 0;
}
