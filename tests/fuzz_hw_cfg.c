/* tests/fuzz_hw_cfg.c — libFuzzer harness: arbitrary text as an accelerator configuration.
 * The parser must accept or reject it with a message, never crash; an accepted one must
 * resolve over a small network and run the model on a tiny trace. */
#include "hw/hw.h"
#include "tests/fuzz_libconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *txt = fuzz_text(data, size);
    if (!txt) return 0;
    hw_cfg c;
    hw_cfg_default(&c);
    if (hw_cfg_parse(&c, txt, "fuzz.cfg") == 0) {
        /* keep runs short: bound what the fuzzer may ask for */
        if (c.dflt.queue_depth > 4096) c.dflt.queue_depth = 4096;
        for (uint32_t i = 0; i < c.n_over; i++)
            if (c.over[i].v.queue_depth > 4096) c.over[i].v.queue_depth = 4096;
        net_layer ls[2];
        memset(ls, 0, sizeof ls);
        ls[0].kind = NET_DENSE; ls[0].in_c = ls[0].n_in = 8; ls[0].in_h = ls[0].in_w = 1;
        ls[0].out_c = ls[0].n_out = 4; ls[0].out_h = ls[0].out_w = 1;
        ls[1] = ls[0];
        ls[1].in_c = ls[1].n_in = 4; ls[1].out_c = ls[1].n_out = 2;
        memcpy(ls[0].name, "fc1", 4);
        memcpy(ls[1].name, "fc2", 4);
        net n = {.n_layers = 2, .layers = ls, .n_in = 8, .in_c = 8, .in_h = 1, .in_w = 1};
        int err;
        hw_machine *m = hw_create(&c, &n, 2, &err);
        if (m) {
            spk_train in, out[2];
            spk_init(&in, 2, 8, 0);
            spk_push(&in, 0, 1, 1);
            spk_push(&in, 1, 7, 1);
            spk_close(&in, 0);
            spk_init(&out[0], 2, 4, 0);
            spk_push(&out[0], 1, 2, 1);
            spk_close(&out[0], 0);
            spk_init(&out[1], 2, 2, 0);
            spk_close(&out[1], 0);
            hw_sample s;
            if (hw_run(m, &in, out, HW_JUMP, 1, &s) == 0) hw_sample_free(&s);
            spk_deinit(&in);
            spk_deinit(&out[0]);
            spk_deinit(&out[1]);
            hw_free(m);
        }
    }
    free(txt);
    return 0;
}
