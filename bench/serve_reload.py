"""Times `report serve`'s loop: from saving a query to the open page showing its new number.

Usage: python3 bench/serve_reload.py PROJECT_DIR URL [ROUNDS]

With `report serve` running in PROJECT_DIR (a copy of this repository's fixture project) at URL,
opens URL/adoption.html in headless Chromium (tests/pages/cdp.py), then ROUNDS times (default 7)
rewrites queries/sessions_last_7_days.sql so the panel's first number is multiplied by another
factor and waits until the open page shows it. Prints each round and the median, in seconds.
"""
import json
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "pages"))
import cdp  # noqa: E402

CELL = "'[' + ((document.querySelector('#p1 td.num') || {}).textContent || '') + ']'"


def main():
    project, url = pathlib.Path(sys.argv[1]), sys.argv[2].rstrip("/")
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    query = project / "queries" / "sessions_last_7_days.sql"
    original = query.read_text()
    marker = "THEN 1 ELSE 0 END) AS sessions"
    assert marker in original, "the query is not the fixture's"
    with cdp.Browser() as browser:
        tab = browser.tab()
        tab.open(url + "/adoption.html")

        def cell():
            try:
                return tab.evaluate(CELL)
            except cdp.ChromiumError:
                return None  # the page is reloading

        try:
            deadline = time.monotonic() + 30
            while not (cell() or "[]").strip("[]") and time.monotonic() < deadline:
                time.sleep(0.05)
            base = int(cell().strip("[]"))
            times = []
            for i in range(rounds):
                factor = 2 + i
                query.write_text(original.replace(marker, f"THEN {factor} ELSE 0 END) AS sessions"))
                saved = time.monotonic()
                want = f"[{base * factor}]"
                while cell() != want:
                    if time.monotonic() - saved > 30:
                        sys.exit(f"round {i + 1}: the page did not show {want}")
                    time.sleep(0.01)
                took = time.monotonic() - saved
                times.append(took)
                print(f"round {i + 1}: {took:.2f} s")
                time.sleep(1)
            print(json.dumps({"rounds": rounds, "median_s": round(statistics.median(times), 3),
                              "min_s": round(min(times), 3), "max_s": round(max(times), 3)}))
        finally:
            query.write_text(original)


if __name__ == "__main__":
    main()
