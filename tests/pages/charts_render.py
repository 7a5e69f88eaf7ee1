"""Every chart on every page renders in a real browser (headless Chromium).

Usage: python3 charts_render.py SITE_DIR

Every page is opened in headless Chromium (cdp.py) 1280 px and 390 px wide (a phone), and for
every <svg class="chart"> the page reads back whether that width shows it, its bounding box and
how many shapes it drew. A chart may come in variants (a wide one and a narrow one for phones,
the CSS showing one by width): a chart that is shown must have a non-empty box and shapes; each
chart must be shown at one width at least; a <figure> with charts shows at least one at each
width, and exactly one when it holds several (the variants of one chart). A page with fewer
charts in the DOM than its HTML holds fails too. Screenshots are screenshots.py's.
"""
import pathlib
import re
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cdp  # noqa: E402

PROBE = r"""
(() => {
  const charts = [...document.querySelectorAll('svg.chart')];
  const figures = [...new Set(charts.map(s => s.closest('figure')).filter(Boolean))];
  return {
    layoutWidth: document.documentElement.clientWidth,
    charts: charts.map(s => {
      const b = s.getBBox();
      const r = s.getBoundingClientRect();
      const id = (s.getAttribute('aria-labelledby') || '').split(/\s+/)[0].replace(/-title$/, '');
      return {id: id || '?', shown: s.checkVisibility({visibilityProperty: true}),
              w: b.width, h: b.height, cw: r.width, ch: r.height,
              shapes: s.querySelectorAll('rect,path,polyline,polygon,line,circle,text').length,
              empty: s.textContent.includes('no data for this period')};
    }),
    figures: figures.map(f => {
      const panel = f.closest('[id]');
      const inside = [...f.querySelectorAll('svg.chart')];
      return {id: panel ? panel.id : '?', charts: inside.length,
              shown: inside.filter(s => s.checkVisibility({visibilityProperty: true})).length};
    }),
  };
})()
"""


def main():
    site = pathlib.Path(sys.argv[1])
    pages = cdp.pages(site)
    started = time.monotonic()
    failures, shown_somewhere, rendered = [], {}, 0
    with cdp.Browser() as browser:
        tab = browser.tab()
        for name, (width, height, mobile) in cdp.WIDTHS.items():
            tab.emulate(width, height, mobile)
            for page in pages:
                rel = page.relative_to(site)
                expected = len(re.findall(r'<svg\b[^>]*\bclass="(?:[^"]* )?chart[ "]', page.read_text()))
                tab.open(page)
                found = tab.evaluate(PROBE)
                if found["layoutWidth"] != width:
                    failures.append(f"{rel} @{width}: the layout viewport is {found['layoutWidth']} px, not {width}")
                if len(found["charts"]) != expected and name == "desktop":
                    failures.append(f"{rel}: {expected} charts in the HTML, {len(found['charts'])} in the DOM")
                for i, c in enumerate(found["charts"]):
                    shown_somewhere.setdefault((rel, i), [c["id"], False])
                    if not c["shown"]:
                        continue
                    shown_somewhere[(rel, i)][1] = True
                    rendered += 1
                    # A chart with nothing to show draws its one line of text saying so.
                    if c["w"] <= 0 or c["h"] <= 0 or c["cw"] <= 0 or c["ch"] <= 0 or c["shapes"] < (1 if c["empty"] else 2):
                        failures.append(f"{rel} @{width}: chart {c['id']} did not render: {c}")
                for f in found["figures"]:
                    if f["shown"] == 0 or (f["charts"] > 1 and f["shown"] != 1):
                        failures.append(f"{rel} @{width}: panel {f['id']} shows {f['shown']} of its {f['charts']} charts")
    for (rel, _), (id_, shown) in sorted(shown_somewhere.items()):
        if not shown:
            failures.append(f"{rel}: chart {id_} is shown at no width")
    print(f"charts_render: {len(shown_somewhere)} charts on {len(pages)} pages, {rendered} rendered at "
          f"1280 and 390 px in Chromium; {len(failures)} problems ({time.monotonic() - started:.1f} s)")
    cdp.fail_on(failures, nothing_checked=not pages)


if __name__ == "__main__":
    main()
