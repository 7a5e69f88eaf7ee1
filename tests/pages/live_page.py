"""Drives one page of `report serve` in headless Chromium (cdp.py's browser), for
tests/it/serve.rs.

Usage: python3 live_page.py URL

Opens URL, prints {"ready": true}, then reads JavaScript expressions from stdin, one a line, and
prints each one's value as a JSON line: {"value": …}, or {"error": "…"} (while the page reloads
there is no context to evaluate in; ask again). Nothing but 127.0.0.1 resolves. Exits when
stdin ends, closing Chromium.
"""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cdp  # noqa: E402


def main():
    url = sys.argv[1]
    try:
        browser = cdp.Browser()
    except cdp.ChromiumError as e:
        sys.exit(f"live_page: {e}")
    with browser:
        tab = browser.tab()
        tab.open(url)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            expression = line.strip()
            if not expression:
                continue
            try:
                out = {"value": tab.evaluate(expression)}
            except cdp.ChromiumError as e:
                out = {"error": str(e)}
            print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
