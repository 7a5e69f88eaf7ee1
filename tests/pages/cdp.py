"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe).

The page checks beside this file share it: one browser per check, one tab, pages opened from
file:// URLs. Only the standard library: the protocol is JSON messages ended by a NUL byte, the
browser reading them on its fd 3 and writing on its fd 4. Nothing here reaches the network.

    with Browser() as browser:
        tab = browser.tab()
        tab.emulate(width=390, dark=True)        # a phone's layout viewport, prefers-color-scheme
        tab.open(pathlib.Path("site/index.html"))
        tab.evaluate("document.documentElement.clientWidth")  # 390
        tab.screenshot(pathlib.Path("index.png"))  # the full page height
"""
import base64
import fcntl
import json
import os
import pathlib
import select
import shutil
import subprocess
import sys
import tempfile
import time

# Debian's chromium; elsewhere (a GitHub runner) whichever Chromium or Chrome is installed.
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
    "--force-device-scale-factor=1", "--remote-debugging-pipe",
    # Nothing but loopback resolves: a page (or `report serve`) that reached out would fail.
    "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# The widths the checks look at: a desktop window and a phone's (an iPhone 12–15 is 390 CSS px).
WIDTHS = {"desktop": (1280, 800, False), "phone": (390, 844, True)}


class ChromiumError(RuntimeError):
    pass


class Browser:
    """One headless Chromium, ended when the `with` block ends."""

    def __init__(self, timeout=60):
        if not CHROMIUM:
            raise ChromiumError("chromium is not installed (apt-get install chromium)")
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="report-pages-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds_3_and_4():
            # Move both ends above any fd number they could collide with, then onto 3 and 4.
            a = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds_3_and_4, close_fds=False,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._events = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._proc.poll() is None:
            try:
                self.send("Browser.close", timeout=10)
            except (ChromiumError, OSError):
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChromiumError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise ChromiumError(f"Chromium ended (exit code {self._proc.poll()})")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None, timeout=None):
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise ChromiumError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_event(self, method, session, timeout=None):
        """The first event `method` of `session`, kept or still to come."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, event in enumerate(self._events):
                if event["method"] == method and event.get("sessionId") == session:
                    return self._events.pop(i)
            self._events.append(self._read_message(deadline))

    def tab(self):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Tab(self, session)


class Tab:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session
        self.send("Page.enable")

    def send(self, method, params=None):
        return self.browser.send(method, params, self.session)

    def emulate(self, width, height=800, mobile=False, dark=False):
        """A layout viewport `width` CSS px wide (a phone's with `mobile`: the page's
        viewport meta applies, touch) and prefers-color-scheme light or dark."""
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        self.send("Emulation.setTouchEmulationEnabled", {"enabled": mobile})
        self.send("Emulation.setEmulatedMedia", {"media": "screen", "features": [
            {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        self._size = (width, height, mobile)

    def open(self, path):
        """Load a local page and wait for its load event and its fonts."""
        self.browser._events = [e for e in self.browser._events if e.get("sessionId") != self.session]
        url = path if isinstance(path, str) else pathlib.Path(path).resolve().as_uri()
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise ChromiumError(f"{url}: {result['errorText']}")
        self.browser.wait_event("Page.loadEventFired", self.session)
        self.evaluate("document.fonts.ready.then(() => true)", await_promise=True)

    def evaluate(self, expression, await_promise=False):
        """The value of a JavaScript expression (JSON-serialisable), or ChromiumError."""
        reply = self.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": await_promise})
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise ChromiumError(f"script failed: {text}")
        return reply["result"].get("value")

    def screenshot(self, path):
        """A PNG of the whole page (its full height) at the emulated width."""
        width, height, mobile = self._size
        full = self.evaluate("Math.ceil(Math.max(document.documentElement.scrollHeight,"
                             " document.body ? document.body.scrollHeight : 0))")
        # Make the viewport as tall as the page: what a reader scrolls through, in one image.
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": max(height, full), "deviceScaleFactor": 1, "mobile": mobile})
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        pathlib.Path(path).write_bytes(base64.b64decode(shot["data"]))


def pages(site):
    """Every HTML page a build wrote, in a stable order."""
    return sorted(pathlib.Path(site).rglob("*.html"))


def fail_on(failures, nothing_checked=False):
    """Ends a check: prints each failure under its summary line, and exits 1 when there is one
    or when the check found nothing to check."""
    for f in failures:
        print("  " + f)
    if failures or nothing_checked:
        sys.exit(1)
