#!/usr/bin/env bash
# The incremental pull alone, cold and warm, for one or more builds (not run by the tests).
# Starts from the warehouse `bench/run.sh` left in WORK (its bucket's objects all ingested), pulls
# a copy of its bucket once, then adds 1,000 new objects (the sessions of two new days); each
# trial pulls them into a fresh copy of that warehouse. "cold" drops the page cache first (root only), as a nightly run finds the
# machine; "warm" runs the same pull once before, unmeasured. Builds alternate, trial by trial. Prints the median and range of the
# wall time, and the data read and written (/usr/bin/time's file system inputs and outputs).
#
#   bench/cold.sh WORK TRIALS BIN [BIN...]
set -euo pipefail
work="$1"
trials="$2"
shift 2
[ -f "$work/warehouse/manifest.json" ] || { echo "cold.sh: no warehouse in $work (run bench/run.sh first)" >&2; exit 2; }
cold="$work/cold"
rm -rf "$cold"
mkdir -p "$cold"
first="$1"
"$first" generate --sessions 1000 --seed 10 --plain-share 0 --start 2023-12-31 --days 2 \
    --out "$cold/new" > /dev/null
# The bucket: links to the old objects, in folders of its own. A second passes, as it would
# between a bucket's uploads and a pull: a pull records only folders that last changed in an
# earlier second than its start.
cp -al "$work/bucket" "$cold/bucket"
sleep 1

config() { # config WAREHOUSE BUCKET
    printf 'warehouse = "%s"\n[pull]\nconcurrency = 32\n[[source]]\nname = "batect"\nformat = "abacus"\nurl = "%s"\n' "$1" "$2"
}

# Each build's own copy of the warehouse, its index in that build's version (a pull that finds
# nothing new rebuilds an index of another version) and with the folders it read, as last
# night's pull of the same bucket left them. Then the new objects arrive.
n=0
for bin in "$@"; do
    n=$((n + 1))
    cp -a "$work/warehouse" "$cold/base-$n"
    config "$cold/base-$n" "$cold/bucket" > "$cold/base-$n.toml"
    "$bin" pull --config "$cold/base-$n.toml" > /dev/null 2>&1
done
cp -r "$cold/new/." "$cold/bucket/"

can_drop=$([ -w /proc/sys/vm/drop_caches ] && echo 1 || echo 0)
[ "$can_drop" = 1 ] || echo "cold.sh: cannot drop the page cache (not root): cold trials are skipped" >&2
config "$cold/trial" "$cold/bucket" > "$cold/trial.toml"
: > "$cold/results"
for i in $(seq "$trials"); do
    for state in cold warm; do
        [ "$state" = cold ] && [ "$can_drop" = 0 ] && continue
        n=0
        for bin in "$@"; do
            n=$((n + 1))
            # Warm: the same pull once before, unmeasured, so that the build's pages and the
            # files are in the page cache.
            [ "$state" = warm ] && { rm -rf "$cold/trial"; cp -a "$cold/base-$n" "$cold/trial"
                "$bin" pull --config "$cold/trial.toml" > /dev/null 2>&1; }
            rm -rf "$cold/trial"
            cp -a "$cold/base-$n" "$cold/trial"
            sync
            [ "$state" = cold ] && echo 3 > /proc/sys/vm/drop_caches
            /usr/bin/time -f "$n $state %e %I %O" "$bin" pull --config "$cold/trial.toml" \
                2>&1 > /dev/null | grep -v '^pull' >> "$cold/results"
        done
    done
done

echo "| build | state | wall, median (s) | range (s) | read (MB) | written (MB) |"
echo "|---|---|---:|---|---:|---:|"
n=0
for bin in "$@"; do
    n=$((n + 1))
    for state in cold warm; do
        grep "^$n $state " "$cold/results" | sort -k3n | awk -v b="$bin" -v s="$state" '
            { t[NR] = $3; r[NR] = $4; w[NR] = $5 }
            END { if (NR) printf "| %s | %s | %.2f | %.2f–%.2f | %.1f | %.1f |\n",
                  b, s, t[int((NR + 1) / 2)], t[1], t[NR],
                  r[int((NR + 1) / 2)] / 2048, w[int((NR + 1) / 2)] / 2048 }'
    done
done
