"""Chart text is laid out to be read: no two texts over each other, none cut off at the edge.

Usage: python3 chart_text_layout.py SITE_DIR [--all]

Every page is opened in headless Chromium (cdp.py) 1280 px and 390 px wide (a phone: mobile
emulation). In every visible <svg> (charts, legends, number panels) each <text> is taken as the
box its glyphs fill: its getBBox() with the line box's leading trimmed (an eighth of its height
off the top and off the bottom, half a pixel off each end), its corners mapped to the screen by
the text's own getScreenCTM(), so that a rotated label is a rotated box. Two texts of one SVG
whose boxes intersect (separating-axis test on the two quadrilaterals) fail: an axis title over
its tick labels, dates on a crowded axis, a legend entry over the plot. So does a text whose box
reaches out of its SVG's box on the screen, where the SVG clips it ("≥ 2.5 mi" for "≥ 2.5 min").
Failures are listed per page, width and chart with the texts.
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
  const quad = el => {
    const b = el.getBBox(), m = el.getScreenCTM();
    if (!m || b.width <= 0 || b.height <= 0) return null;
    const dx = Math.min(0.5, b.width / 4), dy = b.height / 8;
    const pts = [[b.x + dx, b.y + dy], [b.x + b.width - dx, b.y + dy],
                 [b.x + b.width - dx, b.y + b.height - dy], [b.x + dx, b.y + b.height - dy]];
    return pts.map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
  };
  // Separating axis theorem for two convex quadrilaterals.
  const apart = (p, q) => {
    for (const poly of [p, q]) {
      for (let i = 0; i < 4; i++) {
        const [x1, y1] = poly[i], [x2, y2] = poly[(i + 1) % 4];
        const nx = y1 - y2, ny = x2 - x1;
        const proj = r => r.map(([x, y]) => x * nx + y * ny);
        const a = proj(p), b = proj(q);
        if (Math.max(...a) <= Math.min(...b) || Math.max(...b) <= Math.min(...a)) return true;
      }
    }
    return false;
  };
  const svgs = [...document.querySelectorAll('svg')].filter(s => !s.parentElement.closest('svg'));
  return {layoutWidth: document.documentElement.clientWidth, svgs: svgs.filter(visible).map((svg, i) => {
    const texts = [...svg.querySelectorAll('text')]
      .filter(t => t.textContent.trim() && visible(t) && !t.closest('defs, clipPath, mask, pattern, marker, symbol'))
      .map(t => ({t: t.textContent.trim().replace(/\s+/g, ' ').slice(0, 40), q: quad(t)}))
      .filter(t => t.q);
    const r = svg.getBoundingClientRect();
    const cut = texts.filter(t => t.q.some(([x, y]) =>
      x < r.left - 0.5 || x > r.right + 0.5 || y < r.top - 0.5 || y > r.bottom + 0.5)).map(t => t.t);
    const pairs = [];
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++)
        if (!apart(texts[i].q, texts[j].q)) pairs.push([texts[i].t, texts[j].t]);
    return {id: chartId(svg, i), texts: texts.length, pairs, cut};
  })};
})()
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=pathlib.Path)
    ap.add_argument("--all", action="store_true", help="list every overlapping pair, not the first three per chart")
    args = ap.parse_args()
    pages = cdp.pages(args.site)
    started = time.monotonic()
    failures, texts, problems = [], 0, 0
    with cdp.Browser() as browser:
        tab = browser.tab()
        for name, (width, height, mobile) in cdp.WIDTHS.items():
            tab.emulate(width, height, mobile)
            for page in pages:
                rel = page.relative_to(args.site)
                tab.open(page)
                found = tab.evaluate(PROBE)
                if found["layoutWidth"] != width:
                    problems += 1
                    failures.append(f"{rel} @{width}: the layout viewport is {found['layoutWidth']} px, not {width}")
                for svg in found["svgs"]:
                    texts += svg["texts"]
                    pairs, cut = svg["pairs"], svg["cut"]
                    if cut:
                        problems += 1
                        failures.append(f"{rel} @{width} chart {svg['id']}: {len(cut)} texts cut off at its edge: "
                                        + ", ".join(repr(t) for t in (cut if args.all else cut[:5]))
                                        + ("" if args.all or len(cut) <= 5 else f" … and {len(cut) - 5} more"))
                    if not pairs:
                        continue
                    problems += 1
                    failures.append(f"{rel} @{width} chart {svg['id']}: {len(pairs)} pairs of its "
                                    f"{svg['texts']} texts overlap")
                    for a, b in pairs if args.all else pairs[:3]:
                        failures.append(f"    {a!r} over {b!r}")
                    if len(pairs) > 3 and not args.all:
                        failures.append(f"    … and {len(pairs) - 3} more (--all lists them)")
    print(f"chart_text_layout: {texts} texts in the visible SVGs of {len(pages)} pages at 1280 and 390 px; "
          f"{problems} problems ({time.monotonic() - started:.1f} s)")
    cdp.fail_on(failures, nothing_checked=not pages)


if __name__ == "__main__":
    main()
