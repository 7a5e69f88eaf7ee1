"""axe-core finds no serious or critical accessibility violation on any page.

Usage: python3 axe_pages.py SITE_DIR AXE_MIN_JS

Every page is opened in headless Chromium (cdp.py) four times: 1280 px and 390 px wide (a
phone), each with prefers-color-scheme light and dark (colour contrast differs between them).
axe-core's script (AXE_MIN_JS, the npm package's axe.min.js; .ci/run installs a pinned version)
is added to every document the tab opens, before the page's own scripts, and once the page has
loaded `axe.run` checks the whole document with its default rules (WCAG 2.x A and AA and best
practices). Any violation of impact serious or critical fails the check; moderate and minor
ones are listed and counted but pass. The summary gives the pages, the runs and the violations
by impact; each violation names its page, mode, rule and elements.
"""
import argparse
import collections
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cdp  # noqa: E402

FAILING = ("critical", "serious")
IMPACTS = ("critical", "serious", "moderate", "minor")
RUN = r"""
axe.run(document, {resultTypes: ['violations']}).then(r => ({
  version: axe.version,
  violations: r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.replace(/\s+/g, ' ').slice(0, 160)})),
  })),
}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", type=pathlib.Path)
    ap.add_argument("axe", type=pathlib.Path, help="axe-core's axe.min.js")
    args = ap.parse_args()
    source = args.axe.read_text()
    pages = cdp.pages(args.site)
    started = time.monotonic()
    by_impact = collections.Counter()
    nodes_by_impact = collections.Counter()
    lines, runs, version = [], 0, "?"
    with cdp.Browser(timeout=120) as browser:
        tab = browser.tab()
        tab.send("Page.addScriptToEvaluateOnNewDocument", {"source": source})
        for name, (width, height, mobile) in cdp.WIDTHS.items():
            for scheme in ("light", "dark"):
                tab.emulate(width, height, mobile, dark=scheme == "dark")
                for page in pages:
                    rel = page.relative_to(args.site)
                    tab.open(page)
                    result = tab.evaluate(RUN, await_promise=True)
                    version = result["version"]
                    runs += 1
                    for v in result["violations"]:
                        impact = v["impact"] or "minor"
                        by_impact[impact] += 1
                        nodes_by_impact[impact] += len(v["nodes"])
                        mark = "FAIL" if impact in FAILING else "note"
                        lines.append(f"{mark} {rel} @{width} {scheme}: {impact} {v['id']} "
                                     f"({len(v['nodes'])} elements): {v['help']}")
                        for n in v["nodes"][:3]:
                            lines.append(f"       {n['target']}  {n['html']}")
                        if len(v["nodes"]) > 3:
                            lines.append(f"       … and {len(v['nodes']) - 3} more")
    counts = ", ".join(f"{i} {by_impact[i]} ({nodes_by_impact[i]} elements)" for i in IMPACTS)
    print(f"axe_pages: axe-core {version}, {len(pages)} pages × {runs // max(len(pages), 1)} modes "
          f"(1280/390 px, light/dark) = {runs} runs; violations by impact: {counts} "
          f"({time.monotonic() - started:.1f} s)")
    for line in lines:
        print("  " + line)
    if any(by_impact[i] for i in FAILING) or not pages:
        sys.exit(1)


if __name__ == "__main__":
    main()
