#!/usr/bin/env bash
# Memory of `report pull` as the warehouse grows (not run by the tests). Adds sessions to one
# bucket in steps (STEPS, new days each time), and after each step records the peak memory
# (/usr/bin/time -v) of the pull that ingests them and of a pull that finds nothing new.
# A pull holds one batch (pull.batch_size) and the listing's keys; the keys and ids of ingested
# objects stay in the warehouse's tables.
#
#   bench/memory.sh [WORK=/tmp/report-memory] [STEPS="50000 50000 100000"]
# BIN=path/to/report measures another build (default: the release build of this tree).
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/report-memory}"
steps="${2:-50000 50000 100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/report-release}"
bin="${BIN:-$CARGO_TARGET_DIR/release/report}"
[ -n "${BIN:-}" ] || nice -n 19 cargo build --release --locked --quiet

rm -rf "$work"
mkdir -p "$work"
cat > "$work/report.toml" <<TOML
warehouse = "warehouse"
[[source]]
name = "batect"
format = "abacus"
url = "bucket"
TOML

peak() {
    /usr/bin/time -v "$bin" pull --config "$work/report.toml" 2> "$work/time" > /dev/null
    awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$work/time"
}

echo "| objects in the warehouse | pull of the new ones: peak MB | pull with nothing new: peak MB |"
echo "|---:|---:|---:|"
total=0
seed=1
start=2023-01-01
for n in $steps; do
    "$bin" generate --sessions "$n" --seed "$seed" --plain-share 0 --start "$start" --days 60 \
        --out "$work/new" > /dev/null
    cp -r "$work/new/." "$work/bucket/"
    rm -rf "$work/new"
    sync
    total=$(( total + n ))
    ingest=$(peak)
    nothing=$(peak)
    echo "| $total | $ingest | $nothing |"
    seed=$(( seed + 1 ))
    start=$(date -u -d "$start + 60 days" +%F)
done
