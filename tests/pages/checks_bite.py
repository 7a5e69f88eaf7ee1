"""The page checks themselves: each passes a good page and fails the pages that break its rule.

Usage: python3 checks_bite.py AXE_MIN_JS [--verbose]

Writes a small site of hand-made pages shaped like report's (a chart in a wide and a narrow
variant, the CSS showing one by width; marks in titled <g>; dark CSS), one good page and one
page per way of breaking a rule, runs every check beside this file over it, and fails unless
each check names exactly the pages it must: a check that stopped biting, or one that flags the
good page, is caught here before it is trusted with the real site.
"""
import pathlib
import re
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent

CSS = """:root { --fg: #1d1d1f; --bg: #ffffff; --link: #0b57d0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8e8; --bg: #16181c; --link: #8ab4f8; } }
body { margin: 0; font: 15px/1.5 sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--link); }
main { max-width: 64rem; margin: 0 auto; padding: 1rem 1.5rem; }
figure { margin: 0; }
svg.chart { max-width: 100%; height: auto; }
svg.chart text { fill: var(--fg); }
svg.chart.narrow { display: none; }
@media (max-width: 40rem) {
  main { padding: 1rem; }
  svg.chart.wide { display: none; }
  svg.chart.narrow { display: block; }
}
"""


def chart(id_, variant, width, font=12.0, label_extra="", marks=None, wrapper=None):
    """A chart of one bar and one point in titled <g>s, with text of `font` user units."""
    marks = marks if marks is not None else (
        '<g><title>v1.0: 40 sessions</title><rect x="60" y="40" width="30" height="100" fill="#0072B2"/></g>'
        '<g><title>v1.1: 25 sessions</title><circle cx="150" cy="80" r="4" fill="#E69F00"/></g>')
    body = (f'<rect x="0" y="0" width="{width}" height="200" fill="none"/>'
            f'{marks}'
            f'<text x="75" y="160" font-size="{font}">v1.0</text>'
            f'<text x="150" y="160" font-size="{font}">v1.1</text>'
            f'<text x="12" y="100" font-size="{font}" transform="rotate(270, 12, 100)">Sessions</text>'
            f'{label_extra}')
    if wrapper:
        body = f"<g><title>{wrapper}</title>{body}</g>"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {variant}" viewBox="0 0 {width} 200" '
            f'width="{width}" height="200" role="img" aria-labelledby="{id_}-{variant}-title">'
            f'<title id="{id_}-{variant}-title">Sessions by version</title>{body}</svg>')


def page(title, figure, head='<meta name="viewport" content="width=device-width, initial-scale=1">',
         css=CSS, extra=""):
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{head}
<meta name="color-scheme" content="light dark">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
<h1>{title}</h1>
<section class="panel" id="p1" aria-labelledby="p1-h">
<h2 id="p1-h">Sessions by version</h2>
<figure>{figure}</figure>
{extra}
</section>
</main>
</body>
</html>
"""


# The wide variant is 760 user units shown at 760 px on a desktop; the narrow one 340 units in a
# 358 px column on a phone: 12 units are 12 px on both.
GOOD = chart("c", "wide", 760) + chart("c", "narrow", 340)
PAGES = {
    "good.html": page("Good", GOOD),
    # Text size.
    "small-text.html": page("Small text", chart("c", "wide", 760, font=11) + chart("c", "narrow", 340)),
    "no-narrow.html": page("No narrow variant", chart("c", "wide", 760).replace("chart wide", "chart")),
    "small-rotated.html": page("Small rotated label", chart(
        "c", "wide", 760, label_extra='<text x="30" y="100" font-size="11.5" transform="rotate(-45, 30, 100)">ms</text>')
        + chart("c", "narrow", 340)),
    "scaled-down.html": page("Label scaled down", chart(
        "c", "wide", 760, label_extra='<text x="30" y="20" font-size="20" transform="scale(0.5)">note</text>')
        + chart("c", "narrow", 340)),
    "small-tspan.html": page("Small tspan", chart(
        "c", "wide", 760, label_extra='<text x="300" y="20" font-size="12">p50 <tspan font-size="9">ms</tspan></text>')
        + chart("c", "narrow", 340)),
    # Text layout: a label over another, a label off the right edge (the good page's rotated
    # axis title sits beside its neighbours without touching them).
    "text-over-text.html": page("Text over text", chart(
        "c", "wide", 760, label_extra='<text x="80" y="162" font-size="12">v1.0.1</text>') + chart("c", "narrow", 340)),
    "text-cut-off.html": page("Text cut off", chart("c", "wide", 760) + chart(
        "c", "narrow", 340, label_extra='<text x="310" y="60" font-size="12">≥ 2.5 min</text>')),
    # Titled marks.
    "bare-rect.html": page("Bare rect", chart(
        "c", "wide", 760, marks='<rect x="60" y="40" width="30" height="100" fill="#0072B2"/>') + chart("c", "narrow", 340)),
    "title-not-first.html": page("Title not first", chart("c", "wide", 760) + chart(
        "c", "narrow", 340, marks='<g><circle cx="150" cy="80" r="4" fill="#E69F00"/><title>v1.1</title></g>')),
    "whole-chart-title.html": page("One title for all", chart(
        "c", "wide", 760, marks='<rect x="60" y="40" width="30" height="100" fill="#0072B2"/>', wrapper="all of it")
        + chart("c", "narrow", 340)),
    # Rendering, widths, colours.
    "draws-nothing.html": page("A chart that draws nothing", (
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart wide" viewBox="0 0 760 200" width="760" height="200" '
        'role="img" aria-labelledby="c-wide-title"><title id="c-wide-title">Sessions by version</title></svg>')
        + chart("c", "narrow", 340)),
    "hidden-both.html": page("Hidden at both widths", GOOD.replace("chart narrow", "chart narrow gone"),
                             css=CSS + "svg.chart.gone { display: none !important; }"),
    "both-shown.html": page("Both variants shown", GOOD, css=CSS.replace("svg.chart.narrow { display: none; }", "")),
    "no-viewport-meta.html": page("No viewport meta", GOOD, head=""),
    "long-name.html": page("Long name", GOOD, extra="<p><code>queries/a_query_file_name_far_too_long_to_fit_on_a_phone.sql</code></p>"),
    "no-dark.html": page("No dark colours", GOOD, css=re.sub(r"@media \(prefers-color-scheme: dark\).*\n", "", CSS)),
    # axe-core: an image without a text alternative (critical), grey on white (serious).
    "axe-image-alt.html": page("Image without alt", GOOD, extra='<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="20" height="20">'),
    "axe-contrast.html": page("Low contrast", GOOD, extra='<p style="color:#bbbbbb;background:#ffffff">faint</p>'),
}
EXPECT = {
    "charts_render.py": {"draws-nothing.html", "hidden-both.html", "both-shown.html", "no-viewport-meta.html"},
    "page_fits_width.py": {"no-viewport-meta.html", "long-name.html"},
    "chart_text_size.py": {"small-text.html", "no-narrow.html", "small-rotated.html", "scaled-down.html",
                           "small-tspan.html", "hidden-both.html", "no-viewport-meta.html"},
    "chart_text_layout.py": {"text-over-text.html", "text-cut-off.html", "no-viewport-meta.html"},
    "chart_marks_titled.py": {"bare-rect.html", "title-not-first.html", "whole-chart-title.html"},
    "screenshots.py": {"no-viewport-meta.html", "no-dark.html"},
    "axe_pages.py": {"axe-image-alt.html", "axe-contrast.html"},
}


def main():
    axe = sys.argv[1]
    verbose = "--verbose" in sys.argv[2:]
    started = time.monotonic()
    wrong = []
    with tempfile.TemporaryDirectory() as tmp:
        site = pathlib.Path(tmp) / "site"
        site.mkdir()
        for name, html in PAGES.items():
            (site / name).write_text(html)
        for check, expected in EXPECT.items():
            args = [sys.executable, str(HERE / check), str(site)]
            args += {"axe_pages.py": [axe], "screenshots.py": [str(pathlib.Path(tmp) / "shots")]}.get(check, [])
            run = subprocess.run(args, capture_output=True, text=True, timeout=300)
            # Failure lines start with the page (axe's with FAIL); axe's "note" lines do not fail.
            flagged = set(re.findall(r"^  (?:FAIL )?(\S+\.html)", run.stdout, re.M))
            ok = flagged == expected and (run.returncode != 0) == bool(expected)
            print(f"checks_bite: {check}: flags {len(flagged)} of {len(PAGES)} pages, "
                  f"exit {run.returncode}: {'as it must' if ok else 'WRONG'}")
            if verbose:
                print("    " + "\n    ".join((run.stdout + run.stderr).strip().splitlines()))
            if not ok:
                wrong.append(check)
                if expected - flagged:
                    print(f"    does not flag {sorted(expected - flagged)}")
                if flagged - expected:
                    print(f"    flags {sorted(flagged - expected)} too")
                if not verbose:
                    print("    " + "\n    ".join((run.stdout + run.stderr).strip().splitlines()))
    print(f"checks_bite: {len(EXPECT) - len(wrong)} of {len(EXPECT)} checks bite as they must on "
          f"{len(PAGES)} hand-made pages ({time.monotonic() - started:.1f} s)")
    if wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
