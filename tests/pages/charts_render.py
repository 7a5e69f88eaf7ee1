"""Every chart on every page renders in a real browser (headless Chromium).

Usage: python3 charts_render.py SITE_DIR [SCREENSHOT_DIR]

For each *.html page it loads a copy with a probe script appended, lets Chromium lay the page
out, and reads back, for every <svg class="chart">, its bounding box and how many shapes it
drew. A chart with an empty box or no shapes, or a page with fewer rendered charts than its
HTML holds, fails the check. With SCREENSHOT_DIR a PNG of each page is kept for people to look at.
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PROBE = """<script>
window.addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg.chart')].map(s => {
    const b = s.getBBox();
    const r = s.getBoundingClientRect();
    return {id: s.getAttribute('aria-labelledby'), w: b.width, h: b.height, cw: r.width, ch: r.height,
            shapes: s.querySelectorAll('rect,path,polyline,polygon,line,circle,text').length,
            empty: s.textContent.includes('no data for this period')};
  });
  document.body.setAttribute('data-probe', JSON.stringify(charts));
});
</script>"""


def main():
    site = pathlib.Path(sys.argv[1])
    shots = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else None
    if not CHROMIUM:
        sys.exit("charts_render: chromium is not installed (apt-get install chromium)")
    failures, pages, charts = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        profile = pathlib.Path(tmp) / "profile"
        for page in sorted(site.glob("*.html")):
            html = page.read_text()
            expected = len(re.findall(r'<svg [^>]*class="chart"', html))
            probe = pathlib.Path(tmp) / page.name
            probe.write_text(html.replace("</body>", PROBE + "</body>"))
            dom = subprocess.run(
                [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                 "--dump-dom", probe.as_uri()],
                capture_output=True, text=True, timeout=120,
            ).stdout
            m = re.search(r'data-probe="([^"]*)"', dom)
            if not m:
                failures.append(f"{page.name}: the probe did not run")
                continue
            found = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
            pages += 1
            charts += len(found)
            if len(found) != expected:
                failures.append(f"{page.name}: {expected} charts in the HTML, {len(found)} in the DOM")
            for c in found:
                # A chart with nothing to show draws its one line of text saying so.
                if c["w"] <= 0 or c["h"] <= 0 or c["cw"] <= 0 or c["ch"] <= 0 or c["shapes"] < (1 if c["empty"] else 2):
                    failures.append(f"{page.name}: chart {c['id']} did not render: {c}")
            if shots:
                shots.mkdir(parents=True, exist_ok=True)
                subprocess.run(
                    [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1000,3000",
                     f"--screenshot={shots / (page.stem + '.png')}", page.resolve().as_uri()],
                    capture_output=True, timeout=120,
                )
    print(f"charts_render: {charts} charts on {pages} pages rendered in Chromium; {len(failures)} problems")
    for f in failures:
        print("  " + f)
    if failures or pages == 0:
        sys.exit(1)


main()
