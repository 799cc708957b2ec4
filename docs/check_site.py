"""Open the built site page by page in headless Chromium, as a reader would, and check it.

    python docs/check_site.py [--build docs/_build/html] [--out docs/_build/screenshots]
                              [PAGE ...]

PAGE limits the run to the pages whose path contains one of the given strings.

For every page it

- takes a full-page screenshot (``<page>.png``, the blank space a tall window leaves
  collapsed) and tiles of one screen each (``<page>-1.png``, ...), to look at;
- checks that every image the page shows exists and is a non-empty PNG or SVG;
- checks that formulas were rendered (MathML ``<math>`` elements) and that no LaTeX
  (``$$``, ``\\frac``, ``\\operatorname``...) is left as text for the reader to see.

Needs Chromium (Debian: ``apt-get install chromium``) and Pillow. Exits non-zero and
names the page when a check fails.
"""

import argparse
import html.parser
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1280, 1000
TALL = (16000, 24000, 48000)  # window heights to try: a page must end inside the window
SKIP = {"genindex.html", "search.html", "py-modindex.html", "sg_execution_times.html"}
# Pages written with formulas (the API page: its docstrings' :math:) must show MathML.
MATH_PAGES = {"index.html", "softmax_backprop.html", "api.html"}
RAW_TEX = ("$$", "\\frac", "\\operatorname", "\\sum", "\\langle", "\\begin{")


class _Page(html.parser.HTMLParser):
    """Collects the images, the number of <math> elements and the text a reader sees."""

    HIDDEN = {"math", "pre", "code", "script", "style", "textarea"}

    def __init__(self):
        super().__init__()
        self.images, self.n_math, self.text, self._hidden = [], 0, [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        if tag == "math":
            self.n_math += 1
        if tag in self.HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def check_page(path, build):
    parser = _Page()
    parser.feed(path.read_text(encoding="utf-8"))
    problems = []
    for src in parser.images:
        if src.startswith(("http:", "https:", "data:")):
            continue
        image = (path.parent / src.split("#")[0].split("?")[0]).resolve()
        if not image.is_file() or image.stat().st_size == 0:
            problems.append(f"missing image {src}")
        elif image.suffix == ".png":
            with Image.open(image) as im:
                if im.width < 10 or im.height < 10:
                    problems.append(f"empty image {src}")
    name = str(path.relative_to(build))
    if name in MATH_PAGES and parser.n_math == 0:
        problems.append("no rendered formula (<math>) on a page written with formulas")
    text = " ".join(parser.text)
    for tex in RAW_TEX:
        if tex in text:
            problems.append(f"LaTeX left as text: {tex!r}")
    return parser, problems


def _collapse_blank(image, keep=40, longest=300):
    """The page without the blank stretch a tall window leaves between content and footer:
    every run of more than `longest` blank rows shrinks to `keep` rows."""
    pixels = np.asarray(image)
    blank = (pixels == pixels[-1, -1]).all(axis=(1, 2))
    rows, start = [], 0
    for y in range(len(blank) + 1):
        if y == len(blank) or not blank[y]:
            run = y - start  # blank rows in [start, y)
            rows.extend(range(start, start + (keep if run > longest else run)))
            if y < len(blank):
                rows.append(y)
            start = y + 1
    return Image.fromarray(pixels[rows])


def screenshot(chromium, url, out, profile):
    for tall in TALL:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--disable-extensions", "--mute-audio",
               f"--user-data-dir={profile}", f"--window-size={WIDTH},{tall}",
               "--virtual-time-budget=5000", f"--screenshot={out}", url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0 or not out.is_file():
            raise RuntimeError(f"chromium failed on {url}:\n{proc.stderr[-2000:]}")
        with Image.open(out) as im:
            page = _collapse_blank(im.convert("RGB"))
        if page.height < tall:  # the page ended inside the window
            break
    page.save(out)
    tiles = []
    for k, top in enumerate(range(0, page.height, HEIGHT), start=1):
        tile = out.with_name(f"{out.stem}-{k}.png")
        page.crop((0, top, WIDTH, min(page.height, top + HEIGHT))).save(tile)
        tiles.append(tile)
    return page.size, tiles


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=ROOT / "docs" / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "_build" / "screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium")
                        or shutil.which("chromium-browser") or "chromium")
    parser.add_argument("pages", nargs="*", metavar="PAGE")
    args = parser.parse_args(argv)
    build = args.build.resolve()
    if not (build / "index.html").is_file():
        sys.exit(f"{build} holds no built site; build it first (see docs/conf.py)")
    args.out.mkdir(parents=True, exist_ok=True)
    pages = sorted(p for p in build.rglob("*.html")
                   if p.name not in SKIP and not p.relative_to(build).parts[0].startswith("_")
                   and (not args.pages or any(s in str(p.relative_to(build)) for s in args.pages)))
    failed = 0
    with tempfile.TemporaryDirectory() as profile:
        for page in pages:
            info, problems = check_page(page, build)
            name = str(page.relative_to(build))
            shot = args.out / (name.replace("/", "__")[:-5] + ".png")
            size, tiles = screenshot(args.chromium, page.as_uri(), shot, profile)
            status = "FAIL" if problems else "ok"
            print(f"{status:4s} {name}: {len(info.images)} images, {info.n_math} formulas, "
                  f"{size[0]}x{size[1]} px -> {shot.name} (+{len(tiles)} tiles)")
            for p in problems:
                print(f"     {p}")
            failed += bool(problems)
    print(f"{len(pages) - failed} pages passed, {failed} failed; screenshots in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
