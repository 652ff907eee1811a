/* tests/test_engine_rules.c — every reset rule × compare mode against membrane and spike
 * traces derived independently of the engine, on inputs that are silent most of the time,
 * through the event-driven engine's lazy/calendar path (sim_run) and the clock-driven
 * reference (ref_run).
 *
 * The rules (DESIGN §2, sim/net.h), with R[t] = above(u[t−1]), u[−1] = 0, I[t] = w·x[t]:
 *   subtract      u[t] = β·u[t−1] + I + b − R·θ
 *   zero          u[t] = R ? I + b : β·u[t−1] + I + b
 *   none          u[t] = β·u[t−1] + I + b
 *   subtract-pre  u[t] = β·(u[t−1] − R·θ) + I + b
 *   zero-drop     u[t] = R ? 0 : β·u[t−1] + I + b
 *   s[t] = above(u[t]);  above(u) = u > θ (compare gt) or u ≥ θ (compare ge).
 *
 * The case: β = 1/2, θ = 1, T = 16; one input channel spiking at steps 1, 2, 7 and 12 only
 * (12 of 16 steps silent); three neurons
 *   n0: w = 1,    b = 0      input alone; u = θ exactly at step 1 (gt and ge part there)
 *   n1: w = 1/4,  b = 5/8    bias fixed point 5/4 > θ: crossings between inputs
 *   n2: w = −1/2, b = 1      bias alone reaches θ exactly at step 0
 * and the same two biased neurons without input (rows 3 and 4: bias only).
 *
 * The expected traces below were derived from the rules above step by step in exact
 * rational arithmetic (no float, no code of this project) and are written in units of
 * 2^−18 (θ = 262144). Every value is a multiple of 2^−18 below 2 in magnitude: at most 20
 * significant bits, so float holds each one exactly and any correct evaluation — dense
 * steps, lazy β^Δ catch-up, closed-form crossings — must give these floats bit for bit.
 * Worked rows, subtract with >:
 *   n0: u0 = 0; u1 = 0 + 1 = 1 (not > 1); u2 = 1/2 + 1 = 3/2 → spike; u3 = 3/4 − 1 = −1/4
 *       (pending reset, no input); u4..u6 = −1/8, −1/16, −1/32 (decay only);
 *       u7 = −1/64 + 1 = 63/64 (= 258048 units); ...
 *   n2: u0 = 1 (not > 1); u1 = 1/2 − 1/2 + 1 = 1; u2 = 1; u3 = 1/2 + 1 = 3/2 → spike;
 *       u4 = 3/4 + 1 − 1 = 3/4; u5 = 3/8 + 1 = 11/8 → spike; ...
 *   the same with ≥: n0 fires at step 1 (u = θ), u2 = 1/2 + 1 − 1 = 1/2; n2 fires at step 0.
 * Spike strings: '|' a spike at that step, '.' none. */
#include "tests/testutil.h"

#include "sim/engine.h"
#include "sim/evsnn.h"

#define T_STEPS 16
#define UNIT (1.0f / 262144.0f) /* 2^−18, exact */

static const uint32_t in_steps[4] = {1, 2, 7, 12};
static const float w_in[3] = {1.0f, 0.25f, -0.5f}, bias[3] = {0.0f, 0.625f, 1.0f};

typedef struct {
    reset_mode reset;
    cmp_mode cmp;
    const char *spk[5];      /* n0, n1, n2 with input; n1, n2 bias only */
    int32_t u[5][T_STEPS];   /* membranes, units of 2^−18 */
} rule_case;

static const rule_case cases[] = {
    {RESET_SUBTRACT, CMP_GT, /* subtract, > */
     {"..|.........|...", ".|..|..|...|..|.", "...|.|..|.|..|.|", "..|...|...|...|.", ".|.|.|.|.|.|.|.|"},
     {
      {0, 262144, 393216, -65536, -32768, -16384, -8192, 258048, 129024, 64512, 32256, 16128, 270208, -127040, -63520, -31760},
      {163840, 311296, 122880, 225280, 276480, 39936, 183808, 321280, 62336, 195008, 261344, 294512, 114488, 221084, 274382, 38887},
      {262144, 262144, 262144, 393216, 196608, 360448, 180224, 221184, 372736, 186368, 355328, 177664, 219904, 372096, 186048, 355168},
      {163840, 245760, 286720, 45056, 186368, 257024, 292352, 47872, 187776, 257728, 292704, 48048, 187864, 257772, 292726, 48059},
      {262144, 393216, 196608, 360448, 180224, 352256, 176128, 350208, 175104, 349696, 174848, 349568, 174784, 349536, 174768, 349528},
     }},
    {RESET_SUBTRACT, CMP_GE, /* subtract, >= */
     {".|.....|........", ".|..|..|...|..|.", "|..|.|..|.|..|.|", "..|...|...|...|.", "|.|.|.|.|.|.|.|."},
     {
      {0, 262144, 131072, 65536, 32768, 16384, 8192, 266240, -129024, -64512, -32256, -16128, 254080, 127040, 63520, 31760},
      {163840, 311296, 122880, 225280, 276480, 39936, 183808, 321280, 62336, 195008, 261344, 294512, 114488, 221084, 274382, 38887},
      {262144, 0, 131072, 327680, 163840, 344064, 172032, 217088, 370688, 185344, 354816, 177408, 219776, 372032, 186016, 355152},
      {163840, 245760, 286720, 45056, 186368, 257024, 292352, 47872, 187776, 257728, 292704, 48048, 187864, 257772, 292726, 48059},
      {262144, 131072, 327680, 163840, 344064, 172032, 348160, 174080, 349184, 174592, 349440, 174720, 349504, 174752, 349520, 174760},
     }},
    {RESET_ZERO, CMP_GT, /* zero, > */
     {"..|.........|...", ".|.|..|.|..|.|..", "...|.|..|.|..|.|", "..|..|..|..|..|.", ".|.|.|.|.|.|.|.|"},
     {
      {0, 262144, 393216, 0, 0, 0, 0, 262144, 131072, 65536, 32768, 16384, 270336, 0, 0, 0},
      {163840, 311296, 229376, 278528, 163840, 245760, 286720, 229376, 278528, 163840, 245760, 286720, 229376, 278528, 163840, 245760},
      {262144, 262144, 262144, 393216, 262144, 393216, 262144, 262144, 393216, 262144, 393216, 262144, 262144, 393216, 262144, 393216},
      {163840, 245760, 286720, 163840, 245760, 286720, 163840, 245760, 286720, 163840, 245760, 286720, 163840, 245760, 286720, 163840},
      {262144, 393216, 262144, 393216, 262144, 393216, 262144, 393216, 262144, 393216, 262144, 393216, 262144, 393216, 262144, 393216},
     }},
    {RESET_ZERO, CMP_GE, /* zero, >= */
     {".||....|....|...", ".|.|..|.|..|.|..", "|..||||.||||.|||", "..|..|..|..|..|.", "||||||||||||||||"},
     {
      {0, 262144, 262144, 0, 0, 0, 0, 262144, 0, 0, 0, 0, 262144, 0, 0, 0},
      {163840, 311296, 229376, 278528, 163840, 245760, 286720, 229376, 278528, 163840, 245760, 286720, 229376, 278528, 163840, 245760},
      {262144, 131072, 196608, 360448, 262144, 262144, 262144, 131072, 327680, 262144, 262144, 262144, 131072, 327680, 262144, 262144},
      {163840, 245760, 286720, 163840, 245760, 286720, 163840, 245760, 286720, 163840, 245760, 286720, 163840, 245760, 286720, 163840},
      {262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144},
     }},
    {RESET_NONE, CMP_GT, /* none, > */
     {"..|....|....|...", ".|||||||||||||||", "...|||||||||||||", "..||||||||||||||", ".|||||||||||||||"},
     {
      {0, 262144, 393216, 196608, 98304, 49152, 24576, 274432, 137216, 68608, 34304, 17152, 270720, 135360, 67680, 33840},
      {163840, 311296, 385024, 356352, 342016, 334848, 331264, 395008, 361344, 344512, 336096, 331888, 395320, 361500, 344590, 336135},
      {262144, 262144, 262144, 393216, 458752, 491520, 507904, 385024, 454656, 489472, 506880, 515584, 388864, 456576, 490432, 507360},
      {163840, 245760, 286720, 307200, 317440, 322560, 325120, 326400, 327040, 327360, 327520, 327600, 327640, 327660, 327670, 327675},
      {262144, 393216, 458752, 491520, 507904, 516096, 520192, 522240, 523264, 523776, 524032, 524160, 524224, 524256, 524272, 524280},
     }},
    {RESET_NONE, CMP_GE, /* none, >= */
     {".||....|....|...", ".|||||||||||||||", "||||||||||||||||", "..||||||||||||||", "||||||||||||||||"},
     {
      {0, 262144, 393216, 196608, 98304, 49152, 24576, 274432, 137216, 68608, 34304, 17152, 270720, 135360, 67680, 33840},
      {163840, 311296, 385024, 356352, 342016, 334848, 331264, 395008, 361344, 344512, 336096, 331888, 395320, 361500, 344590, 336135},
      {262144, 262144, 262144, 393216, 458752, 491520, 507904, 385024, 454656, 489472, 506880, 515584, 388864, 456576, 490432, 507360},
      {163840, 245760, 286720, 307200, 317440, 322560, 325120, 326400, 327040, 327360, 327520, 327600, 327640, 327660, 327670, 327675},
      {262144, 393216, 458752, 491520, 507904, 516096, 520192, 522240, 523264, 523776, 524032, 524160, 524224, 524256, 524272, 524280},
     }},
    {RESET_SUBTRACT_PRE, CMP_GT, /* subtract-pre, > */
     {"..|....|....|...", ".|.|..|.|..|.|..", "...||||.||||.|||", "..|..|..|..|..|.", ".|||||||||||||||"},
     {
      {0, 262144, 393216, 65536, 32768, 16384, 8192, 266240, 2048, 1024, 512, 256, 262272, 64, 32, 16},
      {163840, 311296, 253952, 290816, 178176, 252928, 290304, 243456, 285568, 175552, 251616, 289648, 243128, 285404, 175470, 251575},
      {262144, 262144, 262144, 393216, 327680, 294912, 278528, 139264, 331776, 296960, 279552, 270848, 135424, 329856, 296000, 279072},
      {163840, 245760, 286720, 176128, 251904, 289792, 177664, 252672, 290176, 177856, 252768, 290224, 177880, 252780, 290230, 177883},
      {262144, 393216, 327680, 294912, 278528, 270336, 266240, 264192, 263168, 262656, 262400, 262272, 262208, 262176, 262160, 262152},
     }},
    {RESET_SUBTRACT_PRE, CMP_GE, /* subtract-pre, >= */
     {".||....|....|...", ".|.|..|.|..|.|..", "|..||||.||||.|||", "..|..|..|..|..|.", "||||||||||||||||"},
     {
      {0, 262144, 262144, 0, 0, 0, 0, 262144, 0, 0, 0, 0, 262144, 0, 0, 0},
      {163840, 311296, 253952, 290816, 178176, 252928, 290304, 243456, 285568, 175552, 251616, 289648, 243128, 285404, 175470, 251575},
      {262144, 131072, 196608, 360448, 311296, 286720, 274432, 137216, 330752, 296448, 279296, 270720, 135360, 329824, 295984, 279064},
      {163840, 245760, 286720, 176128, 251904, 289792, 177664, 252672, 290176, 177856, 252768, 290224, 177880, 252780, 290230, 177883},
      {262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144, 262144},
     }},
    {RESET_ZERO_DROP, CMP_GT, /* zero-drop, > */
     {"..|.........|...", ".|...|..|...|...", "...|..|..|...|..", "..|...|...|...|.", ".|..|..|..|..|.."},
     {
      {0, 262144, 393216, 0, 0, 0, 0, 262144, 131072, 65536, 32768, 16384, 270336, 0, 0, 0},
      {163840, 311296, 0, 163840, 245760, 286720, 0, 229376, 278528, 0, 163840, 245760, 352256, 0, 163840, 245760},
      {262144, 262144, 262144, 393216, 0, 262144, 393216, 0, 262144, 393216, 0, 262144, 262144, 393216, 0, 262144},
      {163840, 245760, 286720, 0, 163840, 245760, 286720, 0, 163840, 245760, 286720, 0, 163840, 245760, 286720, 0},
      {262144, 393216, 0, 262144, 393216, 0, 262144, 393216, 0, 262144, 393216, 0, 262144, 393216, 0, 262144},
     }},
    {RESET_ZERO_DROP, CMP_GE, /* zero-drop, >= */
     {".|.....|....|...", ".|...|..|...|...", "|..|.|..|.|..|.|", "..|...|...|...|.", "|.|.|.|.|.|.|.|."},
     {
      {0, 262144, 0, 0, 0, 0, 0, 262144, 0, 0, 0, 0, 262144, 0, 0, 0},
      {163840, 311296, 0, 163840, 245760, 286720, 0, 229376, 278528, 0, 163840, 245760, 352256, 0, 163840, 245760},
      {262144, 0, 131072, 327680, 0, 262144, 0, 131072, 327680, 0, 262144, 0, 131072, 327680, 0, 262144},
      {163840, 245760, 286720, 0, 163840, 245760, 286720, 0, 163840, 245760, 286720, 0, 163840, 245760, 286720, 0},
      {262144, 0, 262144, 0, 262144, 0, 262144, 0, 262144, 0, 262144, 0, 262144, 0, 262144, 0},
     }},
};

static spk_train input_train(uint32_t n_in) {
    spk_train in;
    assert_int_equal(spk_init(&in, T_STEPS, n_in, 0), 0);
    for (uint32_t k = 0; k < 4; k++) assert_int_equal(spk_push(&in, in_steps[k], 0, 1), 0);
    assert_int_equal(spk_close(&in, 0), 0);
    return in;
}

/* Layer 0 of r against the expected rows: neuron `neuron[j]` must follow row `row[j]`. */
static void check_rows(const rule_case *c, const sim_result *r, const char *engine, const uint32_t *neuron,
                       const uint32_t *row, uint32_t m) {
    const uint32_t n = r->out[0].n;
    for (uint32_t j = 0; j < m; j++) {
        const uint32_t i = neuron[j], q = row[j];
        for (uint32_t t = 0; t < T_STEPS; t++) {
            const float want = (float)c->u[q][t] * UNIT, got = r->mem[0][(size_t)t * n + i];
            if (test_bits(got) != test_bits(want))
                fail_msg("%s, reset %s, compare %s: neuron %u, step %u: membrane %.9g, expected %.9g", engine,
                         net_reset_name(c->reset), c->cmp == CMP_GE ? ">=" : ">", i, t, got, want);
            int fired = 0;
            const spk_train *o = &r->out[0];
            for (uint32_t k = o->off[t]; k < o->off[t + 1]; k++) fired |= o->idx[k] == i;
            if (fired != (c->spk[q][t] == '|'))
                fail_msg("%s, reset %s, compare %s: neuron %u, step %u: %s, expected %s", engine,
                         net_reset_name(c->reset), c->cmp == CMP_GE ? ">=" : ">", i, t, fired ? "spike" : "no spike",
                         fired ? "none" : "a spike");
        }
    }
}

static void run_both(const net *n, const sim_input *si, const rule_case *c, const uint32_t *neuron, const uint32_t *row,
                     uint32_t m, int policy) {
    sim_result rr, re;
    assert_int_equal(sim_result_init(&rr, n, T_STEPS, SIM_RECORD_MEM), 0);
    assert_int_equal(ref_run(n, si, &rr), 0);
    check_rows(c, &rr, "reference", neuron, row, m);
    int err;
    sim *s = sim_create(n, T_STEPS, &err);
    assert_non_null(s);
    sim_set_conv_policy(s, policy);
    assert_int_equal(sim_result_init(&re, n, T_STEPS, SIM_RECORD_MEM), 0);
    assert_int_equal(sim_run(s, si, &re), 0);
    check_rows(c, &re, "event engine", neuron, row, m);
    /* the event engine took sparse steps: a clock-driven engine updates n·T neurons */
    const uint64_t dense_updates = (uint64_t)n->layers[0].n_out * T_STEPS;
    if (re.st[0].neuron_updates >= dense_updates)
        fail_msg("reset %s, compare %s: %llu neuron updates, not below the %llu of all-neuron steps",
                 net_reset_name(c->reset), c->cmp == CMP_GE ? ">=" : ">", (unsigned long long)re.st[0].neuron_updates,
                 (unsigned long long)dense_updates);
    sim_free(s);
    sim_result_deinit(&re);
    sim_result_deinit(&rr);
}

/* Dense 1 → 3: an input event reaches every neuron, so the 12 silent steps are the sparse
 * ones (due neurons only: pending resets, bias-driven crossings from the calendar). */
static void test_rules_dense(void **state) {
    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const rule_case *c = &cases[k];
        neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = c->reset, .cmp = c->cmp, .bias = 1};
        net_opts o = {.cfg = &nc, .n_cfg = 1};
        int err;
        net *n = net_build("1-3", 0, 0, 0, &o, &err);
        if (!n) fail_msg("net_build: %s", evsnn_errmsg());
        for (uint32_t j = 0; j < 3; j++) {
            n->layers[0].w[j] = w_in[j];
            n->layers[0].b[j] = bias[j];
        }
        spk_train in = input_train(1);
        sim_input si = {.train = &in, .T = T_STEPS};
        const uint32_t neuron[3] = {0, 1, 2}, row[3] = {0, 1, 2};
        run_both(n, &si, c, neuron, row, 3, SIM_CONV_AUTO);
        spk_deinit(&in);
        net_free(n);
    }
}

/* The same neurons as a 1×1 convolution, 3 output channels over a 1×4 map: only pixel 0
 * receives the events, so its neurons follow rows 0–2 and the other pixels' biased
 * neurons rows 3–4 (bias only; channel 0 there has neither input nor bias and stays at 0).
 * An event touches 3 of the 12 neurons: a sparse step under the automatic policy (and
 * forced sparse). Neuron (channel c, pixel p) is c·4 + p; the dense readout after it (the
 * last layer must be dense) is not checked. */
static void test_rules_conv(void **state) {
    (void)state;
    static const int32_t zeros[T_STEPS];
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        for (int policy = SIM_CONV_AUTO; policy <= SIM_CONV_SPARSE; policy++) {
            rule_case c = cases[k];
            memcpy(c.u[0], zeros, sizeof zeros); /* row 0 reused: channel 0 off pixel 0 */
            neuron_cfg nc = {.beta = 0.5f, .theta = 1.0f, .reset = c.reset, .cmp = c.cmp, .bias = 1};
            net_opts o = {.cfg = &nc, .n_cfg = 1};
            int err;
            net *n = net_build("3C1-1", 1, 1, 4, &o, &err);
            if (!n) fail_msg("net_build: %s", evsnn_errmsg());
            assert_int_equal(n->layers[0].n_out, 12);
            for (uint32_t j = 0; j < 3; j++) {
                n->layers[0].w[j] = w_in[j]; /* [out_c, in_c, 1, 1] */
                n->layers[0].b[j] = bias[j];
            }
            spk_train in = input_train(4);
            sim_input si = {.train = &in, .T = T_STEPS};
            /* pixel 0 against rows 0–2 of the original case */
            const uint32_t n_px0[3] = {0, 4, 8}, r_px0[3] = {0, 1, 2};
            run_both(n, &si, &cases[k], n_px0, r_px0, 3, policy);
            /* pixels 1–3: channel 0 stays 0 and silent, channels 1, 2 follow rows 3, 4 */
            const uint32_t n_px[9] = {1, 2, 3, 5, 6, 7, 9, 10, 11}, r_px[9] = {0, 0, 0, 3, 3, 3, 4, 4, 4};
            c.spk[0] = "................";
            run_both(n, &si, &c, n_px, r_px, 9, policy);
            spk_deinit(&in);
            net_free(n);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_dense),
        cmocka_unit_test(test_rules_conv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
