"""Every data mark of every chart carries its value in an SVG <title>.

Usage: python3 chart_marks_titled.py SITE_DIR [--all]

Every page is opened in headless Chromium (cdp.py), 1280 px wide. In every <svg> the page
holds (each chart's wide and narrow variants, whether this width shows them or not, legends
and number panels: the pages run no script, so a phone gets the same markup), every <circle>
and every <rect> is a mark, except the chart's background (its first <rect>, when that one
covers the whole viewBox) and shapes inside <defs>, <clipPath>, <mask>, <pattern>, <marker> or
<symbol> (not drawn as themselves). A mark passes when an ancestor <g> inside the SVG has a
<title> with text as its first element child (the tooltip every browser shows, what a screen
reader reads) and that <g> does not also hold the background (a title over the whole chart
names no mark). Failures are listed per page and chart with the offending element.
"""
import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cdp  # noqa: E402

PROBE = r"""
(() => {
  const chartId = (svg, i) => {
    const l = (svg.getAttribute('aria-labelledby') || '').split(/\s+/)[0].replace(/-title$/, '');
    const panel = svg.closest('[id]');
    return l || (svg.id) || ((panel ? panel.id : 'page') + ' svg #' + i);
  };
  const len = (a, whole) => a.baseVal.unitType === SVGLength.SVG_LENGTHTYPE_PERCENTAGE
    ? a.baseVal.valueInSpecifiedUnits / 100 * whole : a.baseVal.value;
  const full = (rect, svg) => {
    const vb = svg.viewBox.baseVal;
    const w = vb && vb.width ? vb.width : svg.width.baseVal.value;
    const h = vb && vb.height ? vb.height : svg.height.baseVal.value;
    const x0 = vb ? vb.x : 0, y0 = vb ? vb.y : 0;
    return len(rect.x, w) <= x0 + 0.5 && len(rect.y, h) <= y0 + 0.5 &&
      len(rect.width, w) >= w - 1 && len(rect.height, h) >= h - 1;
  };
  const titled = g => {
    const t = g.firstElementChild;
    return t && t.localName === 'title' && t.textContent.trim() !== '';
  };
  const svgs = [...document.querySelectorAll('svg')].filter(s => !s.parentElement.closest('svg'));
  return svgs.map((svg, i) => {
    const shown = svg.checkVisibility({visibilityProperty: true});
    const all = [...svg.querySelectorAll('rect, circle')]
      .filter(el => !el.closest('defs, clipPath, mask, pattern, marker, symbol'));
    const firstRect = all.find(el => el.localName === 'rect');
    const background = firstRect && full(firstRect, svg) ? firstRect : null;
    const marks = all.filter(el => el !== background);
    const bare = marks.filter(el => {
      for (let g = el.parentElement.closest('g'); g && svg.contains(g); g = g.parentElement.closest('g')) {
        if (titled(g) && !(background && g.contains(background))) return false;
      }
      return true;
    }).map(el => el.outerHTML.replace(/\s+/g, ' ').slice(0, 140));
    return {id: chartId(svg, i), shown, marks: marks.length, bare};
  });
})()
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=pathlib.Path)
    ap.add_argument("--all", action="store_true", help="list every mark without a title, not the first three per chart")
    args = ap.parse_args()
    pages = cdp.pages(args.site)
    started = time.monotonic()
    failures, marks, svgs, problems = [], 0, 0, 0
    with cdp.Browser() as browser:
        tab = browser.tab()
        width, height, mobile = cdp.WIDTHS["desktop"]
        tab.emulate(width, height, mobile)
        for page in pages:
            rel = page.relative_to(args.site)
            tab.open(page)
            for svg in tab.evaluate(PROBE):
                svgs += 1
                marks += svg["marks"]
                bare = svg["bare"]
                if not bare:
                    continue
                problems += 1
                state = f"shown at {width} px" if svg["shown"] else f"hidden at {width} px"
                failures.append(f"{rel} chart {svg['id']} ({state}): "
                                f"{len(bare)} of {svg['marks']} marks without a <title>")
                for el in bare if args.all else bare[:3]:
                    failures.append(f"    {el}")
                if len(bare) > 3 and not args.all:
                    failures.append(f"    … and {len(bare) - 3} more (--all lists them)")
    print(f"chart_marks_titled: {marks} marks in {svgs} SVGs on {len(pages)} pages; "
          f"{problems} SVGs with untitled marks ({time.monotonic() - started:.1f} s)")
    cdp.fail_on(failures, nothing_checked=not pages)


if __name__ == "__main__":
    main()
