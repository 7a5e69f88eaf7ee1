#!/usr/bin/env bash
# Stops the servers tests/servers/start.sh started: only the pids it recorded in STATE/pids
# (each with its children), TERM first, KILL after 5 s.
set -uo pipefail

state="${1:?usage: stop.sh STATE_DIR}"
[ -f "$state/pids" ] || exit 0

while read -r pid name; do
    [ -n "$pid" ] || continue
    if kill -0 "$pid" 2>/dev/null; then
        # npm's .bin shims and moto_server may run the server as a child: stop those first.
        pkill -TERM -P "$pid" 2>/dev/null
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "servers: $name ($pid) did not stop on TERM; killing it" >&2
            pkill -KILL -P "$pid" 2>/dev/null
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
done < "$state/pids"
: > "$state/pids"
echo "servers: stopped"
