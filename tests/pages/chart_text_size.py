"""Chart text is at least 12 px at the size the page shows it, on a desktop and on a phone.

Usage: python3 chart_text_size.py SITE_DIR [--min-px 12] [--all]

Every page is opened in headless Chromium (cdp.py) with a layout viewport 1280 px wide and
again 390 px wide (a phone: mobile emulation, the page's viewport meta applies; the check fails
when the page's layout viewport is not that width). For every visible <svg> (charts, their
legends, the number panels) each piece of text a <text> or <tspan> draws is measured: its
computed font size times the length of the vertical axis of its own screen transform
(getScreenCTM, which holds the viewBox scaling, the SVG's CSS size and any rotate() of the
label) and the page's zoom (visualViewport.scale), so a rotated label is measured across its
glyphs, not by its bounding box. Text under --min-px fails, as does an <svg class="chart">
that is visible at neither width (its text is never measured). Failures are listed per page,
width and chart with the offending text.
"""
import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cdp  # noqa: E402

PROBE = r"""
(() => {
  const visible = el => el.checkVisibility({visibilityProperty: true, opacityProperty: true});
  const chartId = (svg, i) => {
    const l = (svg.getAttribute('aria-labelledby') || '').split(/\s+/)[0].replace(/-title$/, '');
    const panel = svg.closest('[id]');
    return l || (svg.id) || ((panel ? panel.id : 'page') + ' svg #' + i);
  };
  // Outermost SVGs only: a nested <svg> is measured as part of its parent.
  const svgs = [...document.querySelectorAll('svg')].filter(s => !s.parentElement.closest('svg'));
  // A page wider than a phone may be shown zoomed out: its pinch-zoom scale shrinks all text.
  const zoom = window.visualViewport ? visualViewport.scale : 1;
  const out = {layoutWidth: document.documentElement.clientWidth, zoom, svgs: []};
  svgs.forEach((svg, i) => {
    const entry = {id: chartId(svg, i), chart: svg.classList.contains('chart'), visible: visible(svg),
                   texts: 0, small: []};
    out.svgs.push(entry);
    if (!entry.visible) return;
    const walker = document.createTreeWalker(svg, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!node.data.trim() || !el || !['text', 'tspan', 'textPath'].includes(el.localName)) continue;
      if (el.closest('defs, clipPath, mask, pattern, marker, symbol') || !visible(el)) continue;
      const size = parseFloat(getComputedStyle(el).fontSize);
      const m = el.getScreenCTM();
      if (!m || !(size > 0)) continue;
      const scale = Math.hypot(m.c, m.d) * zoom;
      entry.texts += 1;
      const px = size * scale;
      if (px < MIN_PX - 1e-6) entry.small.push({text: node.data.trim().slice(0, 60), px, size, scale});
    }
  });
  return out;
})()
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=pathlib.Path)
    ap.add_argument("--min-px", type=float, default=12.0)
    ap.add_argument("--all", action="store_true", help="list every small text, not the first five per chart")
    args = ap.parse_args()
    pages = cdp.pages(args.site)
    started = time.monotonic()
    failures, texts, shown = [], 0, {}
    with cdp.Browser() as browser:
        tab = browser.tab()
        for name, (width, height, mobile) in cdp.WIDTHS.items():
            tab.emulate(width, height, mobile)
            for page in pages:
                rel = page.relative_to(args.site)
                tab.open(page)
                found = tab.evaluate(PROBE.replace("MIN_PX", repr(args.min_px)))
                if found["layoutWidth"] != width:
                    failures.append(f"{rel} @{width}: the layout viewport is {found['layoutWidth']} px, not {width}")
                for i, svg in enumerate(found["svgs"]):
                    key = (rel, i)
                    shown.setdefault(key, [svg["id"], svg["chart"], []])
                    if svg["visible"]:
                        shown[key][2].append(width)
                    texts += svg["texts"]
                    small = svg["small"]
                    if not small:
                        continue
                    smallest = min(small, key=lambda s: s["px"])
                    failures.append(
                        f"{rel} @{width} chart {svg['id']}: {len(small)} of {svg['texts']} texts under "
                        f"{args.min_px:g} px (smallest {smallest['px']:.1f} px)")
                    for s in small if args.all else small[:5]:
                        failures.append(f"    {s['px']:.1f} px ({s['size']:g} px × {s['scale']:.3f}) {s['text']!r}")
                    if len(small) > 5 and not args.all:
                        failures.append(f"    … and {len(small) - 5} more (--all lists them)")
    for (rel, _), (id_, chart, widths) in sorted(shown.items()):
        if chart and not widths:
            failures.append(f"{rel} chart {id_}: visible at neither {' nor '.join(str(w) for w, _, _ in cdp.WIDTHS.values())} px")
    charts = sum(1 for v in shown.values() if v[1])
    print(f"chart_text_size: {texts} texts in {len(shown)} SVGs ({charts} charts) on {len(pages)} pages at "
          f"{', '.join(str(w) for w, _, _ in cdp.WIDTHS.values())} px; "
          f"{sum(1 for f in failures if not f.startswith(' '))} problems ({time.monotonic() - started:.1f} s)")
    cdp.fail_on(failures, nothing_checked=not pages)


if __name__ == "__main__":
    main()
