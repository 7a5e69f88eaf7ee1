#!/usr/bin/env bash
# (g) Listing 100,000 keys from s3rver through a proxy with 20 ms per request: report's split
# listing against object_store's sequential list, same server, same run (benches/listing.rs).
#   bench/listing.sh            starts the loopback servers and the proxy, runs the bench, stops
set -euo pipefail
cd "$(dirname "$0")/.."
state="$(mktemp -d)"
trap 'tests/servers/stop.sh "$state"; rm -rf "$state"' EXIT
tests/servers/start.sh "$state" >/dev/null
# shellcheck disable=SC1091
. "$state/env"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
python3 tests/servers/faulty_proxy.py --listen "127.0.0.1:$port" \
    --upstream "${REPORT_TEST_S3RVER_ENDPOINT#http://}" --failure-rate 0 --latency-ms 20 \
    --max-seconds 1800 > "$state/slow.log" 2>&1 &
echo "$! slow-proxy" >> "$state/pids"
sleep 1
REPORT_BENCH_S3="$REPORT_TEST_S3RVER_ENDPOINT" REPORT_BENCH_SLOW="http://127.0.0.1:$port" \
    cargo bench --locked --profile dev --bench listing
