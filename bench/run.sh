#!/usr/bin/env bash
# Benchmarks govcap against reference implementations (see crates/govcap-bench).
# Usage: bench/run.sh [classify options...]   e.g. bench/run.sh --sizes 337,3000
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet jenkspy==0.4.1
cargo run --release -p govcap-bench -- classify "$@"
cargo run --release -p govcap-bench -- evaluate
python3 -m pip install --quiet "SALib==1.6.*"
cargo run --release -p govcap-bench -- audit
bash bench/report.sh
python3 -m pip install --quiet "scrapy==2.19.*"
# Polite (the monitor's defaults: 2 in flight and 250 ms per host), then unthrottled (8 in flight,
# no delay, 260 sites = over 10,000 pages) for raw speed and memory.
cargo run --release -p govcap-bench -- crawl
cargo run --release -p govcap-bench -- crawl --sites 260 --per-host 8 --delay-ms 0
