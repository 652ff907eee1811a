/* tests/benchjson.h — the benchmarks' result lines. Each line is one JSON document built
 * with jansson under the conventions of the commands' own output (apps/json.h): integers are
 * JSON integers, reals carry 17 significant digits (a reader gets the very double back), a
 * missing or non-finite value is null, strings are escaped UTF-8, lists are arrays. Keys
 * come out in the order they are set, so a line's keys keep the order the bench gives them.
 * A line is printed compact, newline-terminated and flushed: `make bench` output is read one
 * line at a time, and a bench that forks or is killed must not leave half a line behind. */
#ifndef EVSNN_TESTS_BENCHJSON_H
#define EVSNN_TESTS_BENCHJSON_H

#include <stdio.h>
#include <stdlib.h>

#include "apps/json.h"

/* A new line {"bench": name}: every line's first key. NULL on allocation failure, which
 * jset() passes through and bench_emit() reports. */
static inline json_t *bench_doc(const char *name) { return jset(json_object(), "bench", jstr(name)); }

/* Print o on stdout as one line and release it. A line that cannot be built or written ends
 * the program with status 1: a benchmark that loses its result has failed. */
static inline void bench_emit(json_t *o) {
    if (jprint(stdout, o)) {
        fprintf(stderr, "bench: cannot write a result line to stdout\n");
        exit(1);
    }
}

/* The number under key in the JSON document text (a bench's own line read back, or a
 * command's last stdout line); -1 when text is not a document or has no such number. */
static inline double bench_json_num(const char *text, const char *key) {
    json_t *doc = json_loads(text, 0, NULL);
    const json_t *v = json_object_get(doc, key);
    const double x = json_is_number(v) ? json_number_value(v) : -1;
    json_decref(doc);
    return x;
}

#endif
