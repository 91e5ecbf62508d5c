#!/usr/bin/env bash
# Times `govcap report` on the demo's 2021 run (337 units, compared with 2020): the whole
# command — reading the runs from SQLite, computing the analyses and profiles, rendering the
# summary, ranking, method and all 337 unit pages, writing them — as wall-clock time of the
# process, plus the render-and-write time the command reports itself. Target: under 1 s.
# Usage: bench/report.sh [RUNS]   (default 10 timed runs after one warm-up)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
cargo build --release --quiet --bin govcap
bin="${CARGO_TARGET_DIR:-target}/release/govcap"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" demo --out "$work/demo" >/dev/null
db="$work/demo/govcap.db"
"$bin" report 2 --db "$db" --out "$work/warm" >/dev/null
walls=()
inner=()
for i in $(seq 1 "$runs"); do
  out="$work/r$i"
  t0=$(date +%s%N)
  line=$("$bin" report 2 --db "$db" --out "$out")
  t1=$(date +%s%N)
  walls+=($(( (t1 - t0) / 1000000 )))
  inner+=($(sed -E 's/.* ([0-9]+) ms\).*/\1/' <<<"$line"))
  rm -rf "$out"
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "min %d ms, median %d ms, max %d ms", a[1], a[int((NR+1)/2)], a[NR]}'; }
"$bin" report 2 --db "$db" --out "$work/final" >/dev/null
files=$(find "$work/final" -type f | wc -l)
bytes=$(du -sb "$work/final" | cut -f1)
echo "govcap report, demo 2021 vs 2020 (337 units, $files files, $((bytes / 1000)) kB), $runs runs:"
echo "  whole command (wall clock): $(stats "${walls[@]}")"
echo "  render + write (reported):  $(stats "${inner[@]}")"
