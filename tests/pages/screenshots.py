"""Screenshots of every page, desktop and phone, light and dark, for people to look at.

Usage: python3 screenshots.py SITE_DIR OUT_DIR

Every page is opened in headless Chromium (cdp.py) 1280 px and 390 px wide (a phone: mobile
emulation) with prefers-color-scheme light and then dark, and kept as a PNG of its full height:
OUT_DIR/PAGE-WIDTH-SCHEME.png (PAGE with any folder's `/` as `_`). The check fails when a page's
layout viewport is not the width asked for, or when its colours do not change between light and
dark (the page's dark CSS did not apply, so the dark screenshots would show nothing new).
"""
import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cdp  # noqa: E402

COLOURS = """[document.documentElement.clientWidth, getComputedStyle(document.body).backgroundColor,
  getComputedStyle(document.body).color, matchMedia('(prefers-color-scheme: dark)').matches]"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=pathlib.Path)
    ap.add_argument("out", type=pathlib.Path)
    args = ap.parse_args()
    pages = cdp.pages(args.site)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    failures, shots, seen = [], 0, {}
    with cdp.Browser() as browser:
        tab = browser.tab()
        for name, (width, height, mobile) in cdp.WIDTHS.items():
            for scheme in ("light", "dark"):
                tab.emulate(width, height, mobile, dark=scheme == "dark")
                for page in pages:
                    rel = page.relative_to(args.site)
                    tab.open(page)
                    inner, background, colour, dark = tab.evaluate(COLOURS)
                    if inner != width:
                        failures.append(f"{rel} @{width}: the layout viewport is {inner} px, not {width}")
                    if dark != (scheme == "dark"):
                        failures.append(f"{rel} @{width} {scheme}: prefers-color-scheme was not emulated")
                    seen.setdefault((rel, width), {})[scheme] = (background, colour)
                    stem = str(rel.with_suffix("")).replace("/", "_")
                    tab.screenshot(args.out / f"{stem}-{width}-{scheme}.png")
                    shots += 1
    for (rel, width), schemes in sorted(seen.items()):
        if schemes.get("light") == schemes.get("dark"):
            failures.append(f"{rel} @{width}: the same colours light and dark "
                            f"(background {schemes['light'][0]}, text {schemes['light'][1]})")
    print(f"screenshots: {shots} PNGs of {len(pages)} pages (1280/390 px, light/dark, full height) in "
          f"{args.out}; {len(failures)} problems ({time.monotonic() - started:.1f} s)")
    cdp.fail_on(failures, nothing_checked=not pages)


if __name__ == "__main__":
    main()
