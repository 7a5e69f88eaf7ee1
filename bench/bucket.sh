#!/usr/bin/env bash
# (e) a first pull of N generated objects (default 1,000,000) from a local folder into a
# warehouse on s3rver: time, peak memory, files in the warehouse after it; (f) then a nightly
# pull of 1 % new objects from a runner with an empty disk (a fresh folder, the same bucket
# warehouse): its time as a share of (e)'s. Same run, same servers.
#   bench/bucket.sh [N] [BINARY]     BINARY defaults to target/release/report
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
bin="${2:-${CARGO_TARGET_DIR:-target}/release/report}"
work="$(mktemp -d)"
state="$work/servers"
trap 'tests/servers/stop.sh "$state"; rm -rf "$work"' EXIT
tests/servers/start.sh "$state" >/dev/null
# shellcheck disable=SC1091
. "$state/env"
"$bin" generate --sessions "$n" --seed 5 --days 120 --out "$work/bucket" 2>/dev/null
prefix="bench-$(date +%s)-$$"
config() {
    cat > "$1/report.toml" <<TOML
warehouse = "s3://telemetry/$prefix"
warehouse_options = { aws_endpoint = "$REPORT_TEST_S3RVER_ENDPOINT", aws_region = "us-east-1", allow_http = "true", aws_access_key_id = "S3RVER", aws_secret_access_key = "S3RVER" }
[pull]
batch_size = 20000
[[source]]
name = "batect"
format = "abacus"
url = "$work/bucket"
TOML
}
run() { # run NAME DIR: times a pull in DIR, prints seconds and peak MB
    /usr/bin/time -f "%e %M" -o "$work/$1.time" "$bin" --config "$2/report.toml" pull > "$work/$1.log" 2>&1 || true
    read -r secs kb < "$work/$1.time"
    echo "$1: $(tail -1 "$work/$1.log")"
    echo "$1: ${secs} s, peak $((kb / 1024)) MB"
}
mkdir -p "$work/first" && config "$work/first"
run first "$work/first"
files=$(python3 - "$REPORT_TEST_S3RVER_ENDPOINT" "$prefix" <<'PY'
import re, sys, urllib.parse, urllib.request
ep, prefix = sys.argv[1], sys.argv[2]
token, n = None, 0
while True:
    url = f"{ep}/telemetry?list-type=2&prefix={prefix}/"
    if token: url += "&continuation-token=" + urllib.parse.quote(token)
    body = urllib.request.urlopen(url).read().decode()
    n += len(re.findall(r"<Key>[^<]*\.parquet</Key>", body))
    m = re.search(r"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
    if not m: break
    token = m.group(1)
print(n)
PY
)
committed=$("$bin" --config "$work/first/report.toml" verify 2>&1 | sed -n 's/^verify: \([0-9]*\) committed files.*/\1/p')
echo "first: $committed Parquet files committed (bound: 2 x 120 days x 4 tables = 960); $files in the bucket until the sweep deletes what compaction removed ([pull] grace_minutes)"
"$bin" generate --sessions "$((n / 100))" --seed 6 --days 120 --out "$work/bucket" 2>/dev/null
mkdir -p "$work/nightly" && config "$work/nightly"
run nightly "$work/nightly"
first=$(cut -d' ' -f1 "$work/first.time"); nightly=$(cut -d' ' -f1 "$work/nightly.time")
python3 -c "print(f'nightly / first: {100 * $nightly / $first:.1f} %')"
