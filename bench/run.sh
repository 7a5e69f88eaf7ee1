#!/usr/bin/env bash
# Benchmark of `report pull` (not run by the tests). In one run, on this machine:
#   (a) report pull of N gzipped session objects from a local folder (release build)
#   (b) DuckDB read_json(..., compression='gzip') over the same files → Parquet,
#       with SET preserve_insertion_order=false
#   (c) an incremental report pull after adding 1 % new objects: the sessions of the next two
#       days (what a nightly run finds), then (c2) 1 % more spread over 120 new days (a new
#       partition file per table and day: the worst case for an increment of that size)
#   (d) report pull of the same objects from a loopback S3 server (s3rver), and a plain
#       parallel client (boto3, thread pool) GETting them all from that server
# Wall time and peak memory come from /usr/bin/time -v. Prints a Markdown table.
#
#   bench/run.sh [SESSIONS=100000] [WORK=/tmp/report-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
work="${2:-/tmp/report-bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/report-release}"
bin="$CARGO_TARGET_DIR/release/report"
threads="${BENCH_THREADS:-32}"

nice -n 19 cargo build --release --locked --quiet
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "duckdb==2.0.0" "boto3"

rm -rf "$work"
mkdir -p "$work"
extra=$(( n / 100 ))
"$bin" generate --sessions "$n" --seed 7 --plain-share 0 --out "$work/bucket" > /dev/null
# The first set covers 2023-05-01 to 2023-08-28.
"$bin" generate --sessions "$extra" --seed 8 --plain-share 0 --start 2023-08-29 --days 2 --out "$work/extra" > /dev/null
"$bin" generate --sessions "$extra" --seed 9 --plain-share 0 --start 2023-09-01 --out "$work/extra2" > /dev/null
sync

cat > "$work/report.toml" <<TOML
warehouse = "warehouse"
[pull]
concurrency = $threads
[[source]]
name = "batect"
format = "abacus"
url = "bucket"
TOML

# measure NAME COMMAND...: appends "NAME wall_seconds peak_MB" to $work/results
measure() {
    local name="$1"
    shift
    # Every run starts with nothing left to write back (DuckDB's or the last pull's output).
    sync
    /usr/bin/time -v "$@" > "$work/$name.out" 2> "$work/$name.time"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$name.time" \
        | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$work/$name.time")
    echo "$name $wall $rss" >> "$work/results"
    echo "bench: $name: ${wall}s, ${rss} MB" >&2
}
: > "$work/results"

# (a) full pull from the local folder
measure a_report_local "$bin" pull --config "$work/report.toml"
grep -h "^pull:" "$work/a_report_local.time" >&2 || true

# (b) DuckDB over the same gzipped files
cat > "$work/duck.py" <<PY
import duckdb
con = duckdb.connect()
con.execute("SET preserve_insertion_order=false")
con.execute("""COPY (SELECT * FROM read_json('$work/bucket/**/*.json', compression='gzip')) TO '$work/duck.parquet' (FORMAT parquet)""")
print(con.execute("SELECT count(*) FROM '$work/duck.parquet'").fetchone()[0])
PY
measure b_duckdb python3 "$work/duck.py"

# (c) incremental: 1 % new objects, the next two days' sessions
cp -r "$work/extra/v1/batect/." "$work/bucket/v1/batect/"
measure c_report_incremental "$bin" pull --config "$work/report.toml"
grep -h "^pull:" "$work/c_report_incremental.time" >&2 || true
# (c2) 1 % more, spread over 120 new days
cp -r "$work/extra2/v1/batect/." "$work/bucket/v1/batect/"
measure c2_report_incremental_spread "$bin" pull --config "$work/report.toml"
grep -h "^pull:" "$work/c2_report_incremental_spread.time" >&2 || true

# (d) the same objects from a loopback S3 server: report vs boto3 with a thread pool
# (BENCH_SKIP_S3=1 skips it: uploading 100,000 objects to s3rver takes minutes)
if [ -z "${BENCH_SKIP_S3:-}" ]; then
servers="$work/servers"
trap 'tests/servers/stop.sh "$servers"' EXIT
tests/servers/start.sh "$servers" > /dev/null
# shellcheck disable=SC1090
. "$servers/env"
python3 - "$REPORT_TEST_S3RVER_ENDPOINT" "$work/bucket" <<'PY'
import os, sys, boto3
from concurrent.futures import ThreadPoolExecutor
endpoint, root = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="S3RVER",
                  aws_secret_access_key="S3RVER", region_name="us-east-1")
keys = [os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs]
def put(k):
    with open(os.path.join(root, k), "rb") as fh:
        s3.put_object(Bucket="telemetry", Key="bench/" + k, Body=fh.read())
with ThreadPoolExecutor(16) as pool:
    list(pool.map(put, keys))
print(f"uploaded {len(keys)}", file=sys.stderr)
PY
cat > "$work/s3.toml" <<TOML
warehouse = "warehouse-s3"
[pull]
concurrency = $threads
[[source]]
name = "batect"
format = "abacus"
url = "s3://telemetry/bench"
options = { aws_endpoint = "$REPORT_TEST_S3RVER_ENDPOINT", allow_http = "true", aws_region = "us-east-1", aws_access_key_id = "S3RVER", aws_secret_access_key = "S3RVER" }
TOML
measure d_report_s3 "$bin" pull --config "$work/s3.toml"
grep -h "^pull:" "$work/d_report_s3.time" >&2 || true
cat > "$work/boto.py" <<PY
import sys, boto3
from concurrent.futures import ThreadPoolExecutor
s3 = boto3.client("s3", endpoint_url="$REPORT_TEST_S3RVER_ENDPOINT", aws_access_key_id="S3RVER",
                  aws_secret_access_key="S3RVER", region_name="us-east-1")
keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="telemetry", Prefix="bench/")
        for o in page.get("Contents", [])]
def get(k):
    return len(s3.get_object(Bucket="telemetry", Key=k)["Body"].read())
with ThreadPoolExecutor($threads) as pool:
    total = sum(pool.map(get, keys))
print(len(keys), total)
PY
measure d_boto3_s3 python3 "$work/boto.py"
fi

objects=$(( n + 2 * extra ))
echo
echo "| run | objects | wall (s) | objects/s | peak memory (MB) |"
echo "|---|---:|---:|---:|---:|"
while read -r name wall rss; do
    count=$n
    case "$name" in
        c_* | c2_*) count=$extra ;;
        d_*) count=$objects ;;
    esac
    rate=$(awk -v c="$count" -v w="$wall" 'BEGIN { printf "%.0f", c / w }')
    echo "| $name | $count | $wall | $rate | $rss |"
done < "$work/results"
