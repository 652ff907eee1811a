# tests/study_csv.sh — sourced by the study shell tests (after tests/tap.sh): awk over a
# study table, which quotes strings as RFC 4180 does (dataset specs hold commas).
#   $CSV    an awk function csv(line) that fills f[1..n] with the fields, returns n
#   $TABLE  $CSV plus a first rule that reads the header into c["name"] = column and
#           splits every other line into f[]: write rules after it, e.g.
#           awk "$TABLE"'f[c["status"]] == "ok" { print f[c["accuracy"]] }' study.csv
# rows FILE STATUS   the number of rows with that status
CSV='function csv(l,   n, i, ch, q, s) { n = 0; s = ""; q = 0
  for (i = 1; i <= length(l); i++) { ch = substr(l, i, 1)
    if (q) { if (ch == "\"") { if (substr(l, i + 1, 1) == "\"") { s = s ch; i++ } else q = 0 } else s = s ch }
    else if (ch == "\"") q = 1; else if (ch == ",") { f[++n] = s; s = "" } else s = s ch }
  f[++n] = s; return n }'
TABLE="$CSV"'
NR == 1 { nh = csv($0); for (i = 1; i <= nh; i++) c[f[i]] = i; next }
{ csv($0) }
'
rows() { grep -c "^[0-9]*,$2," "$1"; }
# every column but the measured train_s, one line per row: what two runs must agree on
table_sans_time() { awk "$TABLE"'{ s = ""; for (i = 1; i <= nh; i++) if (i != c["train_s"]) s = s "|" f[i]; print s }' "$1"; }
