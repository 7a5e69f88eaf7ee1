#!/usr/bin/env python3
"""A loopback HTTP proxy that makes an object store unreliable, for the fault-injection test.

Each request is, by a seeded random draw (in arrival order):
  - answered 500 or 503 with an S3-style error body, without reaching the upstream;
  - cut off: the connection is reset (RST) before any response byte;
  - cut off mid-body: the upstream's headers and half its body are sent, then a reset;
  - otherwise passed to the upstream as is.
The three faults share --failure-rate (default 10 %) equally. --latency-ms adds that much delay
before each request is answered (a far region's round trip), faulted or not. `GET /__faulty_proxy/stats`
answers the counts so far as JSON (never faulted), so a test can check that faults happened. The proxy listens on loopback
only, serves for at most --max-seconds, then exits by itself.

    faulty_proxy.py --listen 127.0.0.1:9001 --upstream 127.0.0.1:9000 --seed 4
"""

import argparse
import http.client
import json
import random
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", required=True, help="HOST:PORT on loopback")
    ap.add_argument("--upstream", required=True, help="HOST:PORT of the real server (loopback)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--failure-rate", type=float, default=0.10)
    ap.add_argument("--max-seconds", type=float, default=3600)
    ap.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    args = ap.parse_args()

    host, port = args.listen.rsplit(":", 1)
    up_host, up_port = args.upstream.rsplit(":", 1)
    for h in (host, up_host):
        if not (h.startswith("127.") or h in ("localhost", "::1")):
            print(f"faulty_proxy: {h} is not a loopback address", file=sys.stderr)
            return 2

    rng = random.Random(args.seed)
    lock = threading.Lock()
    counts = {"pass": 0, "500": 0, "503": 0, "reset": 0, "cut": 0}

    def draw() -> str:
        with lock:
            x = rng.random()
        rate = args.failure_rate
        if x < rate / 3:
            return "status"
        if x < 2 * rate / 3:
            return "reset"
        if x < rate:
            return "cut"
        return "pass"

    def count(kind: str) -> None:
        with lock:
            counts[kind] += 1

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet: the counts are printed at exit
            pass

        def reset(self) -> None:
            # SO_LINGER with a zero timeout makes close() send an RST.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.path == "/__faulty_proxy/stats":
                with lock:
                    payload = json.dumps(counts).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if args.latency_ms > 0:
                time.sleep(args.latency_ms / 1000.0)
            fault = draw()
            if fault == "status":
                status = 500 if rng_status() else 503
                count(str(status))
                code = "InternalError" if status == 500 else "SlowDown"
                payload = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                           f"<Message>injected by faulty_proxy</Message></Error>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if fault == "reset":
                count("reset")
                self.reset()
                return
            up = http.client.HTTPConnection(up_host, int(up_port), timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                up.request(self.command, self.path, body=body, headers=headers)
                resp = up.getresponse()
                data = resp.read()
            finally:
                up.close()
            if fault == "cut" and self.command == "GET" and len(data) > 1:
                count("cut")
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.reset()
                return
            count("pass")
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    status_rng = random.Random(args.seed + 1)

    def rng_status() -> bool:
        with lock:
            return status_rng.random() < 0.5

    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    started = time.monotonic()

    def on_term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print(f"faulty_proxy: {counts} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
