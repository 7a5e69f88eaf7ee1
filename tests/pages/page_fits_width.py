"""Every page fits the width it is shown at: nothing makes a phone scroll sideways.

Usage: python3 page_fits_width.py SITE_DIR

Every page is opened in headless Chromium (cdp.py) 1280 px and 390 px wide (a phone: mobile
emulation, the page's viewport meta applies). The layout viewport must be that width, the
document no wider, and no visible element may reach past the right edge unless a box that
scrolls or clips (overflow-x other than visible) holds it: a wide table in its scrolling box
is fine, a long unbreakable file name in a heading is not. On a phone such a page scrolls
sideways, or is shown zoomed out with all its text smaller. Failures name the page, the width
and the elements that stick out furthest.
"""
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cdp  # noqa: E402

PROBE = r"""
(() => {
  const root = document.documentElement, width = root.clientWidth;
  const held = el => {
    for (let p = el.parentElement; p && p !== document.body && p !== root; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  const out = [...document.body.querySelectorAll('*')]
    .filter(el => !el.parentElement.closest('svg') && el.checkVisibility({visibilityProperty: true}))
    .map(el => [el, el.getBoundingClientRect().right + window.scrollX])
    .filter(([el, right]) => right > width + 0.5 && !held(el))
    .sort((a, b) => b[1] - a[1])
    .map(([el, right]) => {
      const panel = el.closest('[id]');
      return {right: Math.round(right), el: el.localName, panel: panel ? panel.id : '',
              text: (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 70)};
    });
  return {width, scrollWidth: root.scrollWidth, out};
})()
"""


def main():
    site = pathlib.Path(sys.argv[1])
    pages = cdp.pages(site)
    started = time.monotonic()
    failures, problems = [], 0
    with cdp.Browser() as browser:
        tab = browser.tab()
        for name, (width, height, mobile) in cdp.WIDTHS.items():
            tab.emulate(width, height, mobile)
            for page in pages:
                rel = page.relative_to(site)
                tab.open(page)
                found = tab.evaluate(PROBE)
                if found["width"] != width:
                    problems += 1
                    failures.append(f"{rel} @{width}: the layout viewport is {found['width']} px, not {width}")
                if found["scrollWidth"] > found["width"] or found["out"]:
                    problems += 1
                    failures.append(f"{rel} @{width}: the page is {found['scrollWidth']} px wide; "
                                    f"{len(found['out'])} elements reach past {found['width']} px")
                    for o in found["out"][:4]:
                        failures.append(f"    to {o['right']} px: <{o['el']}> in #{o['panel']} {o['text']!r}")
                    if len(found["out"]) > 4:
                        failures.append(f"    … and {len(found['out']) - 4} more")
    print(f"page_fits_width: {len(pages)} pages at 1280 and 390 px; {problems} problems "
          f"({time.monotonic() - started:.1f} s)")
    cdp.fail_on(failures, nothing_checked=not pages)


if __name__ == "__main__":
    main()
