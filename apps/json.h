/* apps/json.h — the little JSON output the commands need: escaped strings and numbers
 * that stay valid JSON (no NaN/Inf: those print as null). */
#ifndef EVSNN_APPS_JSON_H
#define EVSNN_APPS_JSON_H

#include <stdio.h>

void json_str(FILE *f, const char *s);      /* "..." with escapes */
void json_num(FILE *f, double v);           /* %.6g, or null when not finite */

#endif
