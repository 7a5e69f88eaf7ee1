"""Drives one page in headless Chromium over the DevTools protocol, for tests of `report serve`.

Usage: python3 cdp.py URL

Starts Chromium with --remote-debugging-pipe (the protocol on file descriptors 3 and 4: no port,
no WebSocket library), opens URL in a new tab, prints {"ready": true}, then reads JavaScript
expressions from stdin, one a line, and prints each one's value as a JSON line: {"value": …},
or {"error": "…"} (while the page reloads there is no context to evaluate in; ask again).
Nothing but 127.0.0.1 resolves. Exits when stdin ends, closing Chromium.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--remote-debugging-pipe",
]


class Browser:
    def __init__(self, profile):
        to_chromium, self.w = os.pipe()
        self.r, from_chromium = os.pipe()

        def pipes():  # in the child: the protocol's descriptors are 3 (read) and 4 (write)
            a, b = os.dup(to_chromium), os.dup(from_chromium)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=pipes,
        )
        os.close(to_chromium)
        os.close(from_chromium)
        self.buf = b""
        self.last = 0

    def call(self, method, params=None, session=None):
        self.last += 1
        msg = {"id": self.last, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self.read()
            if reply.get("id") == self.last:
                if "error" in reply:
                    raise RuntimeError(reply["error"].get("message", str(reply["error"])))
                return reply["result"]

    def read(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.r, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the protocol pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    if not CHROMIUM:
        sys.exit("cdp: chromium is not installed (apt-get install chromium)")
    url = sys.argv[1]
    with tempfile.TemporaryDirectory() as profile:
        browser = Browser(profile)
        try:
            target = browser.call("Target.createTarget", {"url": url})["targetId"]
            session = browser.call(
                "Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            print(json.dumps({"ready": True}), flush=True)
            for line in sys.stdin:
                expression = line.strip()
                if not expression:
                    continue
                try:
                    result = browser.call(
                        "Runtime.evaluate",
                        {"expression": expression, "returnByValue": True}, session)
                    if "exceptionDetails" in result:
                        out = {"error": result["exceptionDetails"].get("text", "exception")}
                    else:
                        out = {"value": result.get("result", {}).get("value")}
                except RuntimeError as e:
                    out = {"error": str(e)}
                print(json.dumps(out), flush=True)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
