#!/usr/bin/env bash
# Starts the loopback object-store servers the ignored tests in tests/it/servers.rs need, and
# writes their endpoints to STATE/env (source it, then `cargo test -- --include-ignored`).
#
#   tests/servers/start.sh STATE     install (pip, npm), start, wait until ready, write STATE/env
#   tests/servers/stop.sh STATE      stop what start.sh started (by the pids in STATE/pids)
#
# Servers, all on 127.0.0.1, on free ports:
#   moto     S3 (moto[server], PyPI)               REPORT_TEST_S3_ENDPOINT,     bucket "telemetry"
#   s3rver   S3 (npm; needs the legacy OpenSSL provider on Node 20)
#                                                  REPORT_TEST_S3RVER_ENDPOINT, bucket "telemetry"
#   azurite  Azure Blob (npm, 3.35.0 for Node 20)  REPORT_TEST_AZURITE_ENDPOINT, container "telemetry"
#   faulty   tests/servers/faulty_proxy.py in front of moto: ~10 % of requests get a 500/503 or
#            a connection reset (seeded)          REPORT_TEST_FAULTY_S3_ENDPOINT
set -euo pipefail

state="${1:?usage: start.sh STATE_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$state"
state="$(cd "$state" && pwd)"
: > "$state/pids"

MOTO_VERSION="5.2.1"
AZURE_BLOB_VERSION="12.26.0"
AZURITE_VERSION="3.35.0"
S3RVER_VERSION="3.7.1"
npm_prefix="${REPORT_SERVERS_NPM_PREFIX:-$HOME/.cache/report-servers}"

echo "servers: installing moto[server]==$MOTO_VERSION, azure-storage-blob, azurite@$AZURITE_VERSION, s3rver@$S3RVER_VERSION"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "moto[server]==$MOTO_VERSION" "azure-storage-blob==$AZURE_BLOB_VERSION"
mkdir -p "$npm_prefix"
if [ ! -x "$npm_prefix/node_modules/.bin/azurite-blob" ] || [ ! -x "$npm_prefix/node_modules/.bin/s3rver" ] \
    || ! grep -q "\"version\": \"$AZURITE_VERSION\"" "$npm_prefix/node_modules/azurite/package.json" \
    || ! grep -q "\"version\": \"$S3RVER_VERSION\"" "$npm_prefix/node_modules/s3rver/package.json"; then
    npm install --silent --no-audit --no-fund --prefix "$npm_prefix" \
        "azurite@$AZURITE_VERSION" "s3rver@$S3RVER_VERSION"
fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits (at most 60 s) until something answers HTTP on the port.
wait_http() {
    local name="$1" port="$2" pid="$3"
    for _ in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "servers: $name exited; its log:" >&2
            cat "$state/$name.log" >&2 || true
            return 1
        fi
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
            return 0
        fi
        sleep 0.2
    done
    echo "servers: $name did not answer on 127.0.0.1:$port within 60 s" >&2
    return 1
}

start() {
    local name="$1"
    shift
    "$@" > "$state/$name.log" 2>&1 &
    local pid=$!
    echo "$pid $name" >> "$state/pids"
    echo "$pid"
}

moto_port="$(free_port)"
moto_pid="$(start moto moto_server -H 127.0.0.1 -p "$moto_port")"

s3rver_port="$(free_port)"
mkdir -p "$state/s3rver"
s3rver_pid="$(NODE_OPTIONS=--openssl-legacy-provider start s3rver \
    "$npm_prefix/node_modules/.bin/s3rver" -d "$state/s3rver" -a 127.0.0.1 -p "$s3rver_port" \
    --silent --configure-bucket telemetry)"

azurite_port="$(free_port)"
mkdir -p "$state/azurite"
azurite_pid="$(start azurite "$npm_prefix/node_modules/.bin/azurite-blob" \
    --blobHost 127.0.0.1 --blobPort "$azurite_port" --location "$state/azurite" \
    --disableTelemetry --skipApiVersionCheck --loose --silent)"

wait_http moto "$moto_port" "$moto_pid"
wait_http s3rver "$s3rver_port" "$s3rver_pid"
wait_http azurite "$azurite_port" "$azurite_pid"

faulty_port="$(free_port)"
faulty_pid="$(start faulty python3 "$here/faulty_proxy.py" --listen "127.0.0.1:$faulty_port" \
    --upstream "127.0.0.1:$moto_port" --seed 4 --failure-rate 0.10 --max-seconds 3600)"
wait_http faulty "$faulty_port" "$faulty_pid" || true # its own 5xx/resets may answer the probe

# Buckets: moto takes an unsigned CreateBucket; s3rver made its bucket at start; Azurite's
# container is created with its well-known development account.
curl -sf -o /dev/null -X PUT "http://127.0.0.1:$moto_port/telemetry"
azurite_account="devstoreaccount1"
azurite_key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
python3 - "$azurite_port" "$azurite_account" "$azurite_key" <<'EOF'
import sys
from azure.storage.blob import BlobServiceClient
port, account, key = sys.argv[1:]
cs = (f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};"
      f"BlobEndpoint=http://127.0.0.1:{port}/{account};")
client = BlobServiceClient.from_connection_string(cs)
if not client.get_container_client("telemetry").exists():
    client.create_container("telemetry")
EOF

cat > "$state/env" <<EOF
export REPORT_TEST_S3_ENDPOINT=http://127.0.0.1:$moto_port
export REPORT_TEST_S3RVER_ENDPOINT=http://127.0.0.1:$s3rver_port
export REPORT_TEST_FAULTY_S3_ENDPOINT=http://127.0.0.1:$faulty_port
export REPORT_TEST_AZURITE_ENDPOINT=http://127.0.0.1:$azurite_port/$azurite_account
EOF
echo "servers: ready (moto :$moto_port, s3rver :$s3rver_port, azurite :$azurite_port, faulty :$faulty_port)"
cat "$state/env"
