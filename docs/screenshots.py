"""Screenshots of the built docs at a desktop and a phone width, and what does not fit.

Loads every page of a built site (``make docs`` writes ``docs/_build/html``)
in a headless Chromium (Qt WebEngine: ``pip install PyQt6-WebEngine``, or
Debian's ``python3-pyqt6.qtwebengine`` package),
at 1280 px and at 390 px wide, saves a full-page screenshot of each, and
reports what does not fit:

* at both widths, a page wider than the window (the reader would scroll
  the whole page sideways);
* at 1280 px, every code block, table or text dump whose content is wider
  than its box (cut off, or behind a scroll bar), and every figure shown at
  less than half its pixel width (its text too small to read).

At the phone width code blocks and tables may scroll inside their box, as
on any documentation site; only the page itself must fit.

Run from the repository root (exit status 1 when something does not fit)::

    QT_QPA_PLATFORM=offscreen python docs/screenshots.py [--html docs/_build/html]
        [--output docs/_build/screenshots] [PAGE ...]

PAGE names pages relative to the site (``user_guide/seal.html``); the
default is every page but the search, index and module-source pages.
"""

import argparse
import json
import sys
from pathlib import Path

WIDTHS = {"desktop": 1280, "phone": 390}
SKIPPED = ("genindex.html", "search.html", "py-modindex.html")
MAX_HEIGHT = 16_000

# Runs in the page; returns what does not fit, as JSON.
MEASURE = """
(() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth + 1) {
    problems.push({kind: "page", what: "the page is wider than the window",
                   content: root.scrollWidth, box: window.innerWidth});
  }
  if (window.innerWidth >= 1000) {
    const article = document.querySelector("article") || document.body;
    for (const el of article.querySelectorAll("pre, table")) {
      if (el.scrollWidth > el.clientWidth + 1) {
        problems.push({kind: el.tagName.toLowerCase(),
                       what: (el.textContent || "").trim().slice(0, 70),
                       content: el.scrollWidth, box: el.clientWidth});
      }
    }
    // gallery thumbnails are meant to be small
    for (const img of article.querySelectorAll("img:not(.sphx-glr-thumbcontainer img)")) {
      if (img.naturalWidth > 0 && img.clientWidth < 0.5 * img.naturalWidth) {
        problems.push({kind: "figure", what: img.getAttribute("src"),
                       content: img.naturalWidth, box: img.clientWidth});
      }
    }
  }
  return JSON.stringify({height: root.scrollHeight, problems: problems});
})()
"""


def site_pages(html):
    """Every page of the built site worth looking at, relative to ``html``."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        relative = path.relative_to(html)
        if relative.name in SKIPPED or relative.parts[0] in ("_modules", "_sources",
                                                             "_static", "_images"):
            continue
        pages.append(relative)
    return pages


def shoot(html, pages, output):
    """Screenshot ``pages`` at every width; ``{(page, width name): problems}``."""
    from PyQt6.QtCore import QTimer, QUrl
    from PyQt6.QtWebEngineWidgets import QWebEngineView
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    view = QWebEngineView()
    jobs = [(page, name) for page in pages for name in WIDTHS]
    results = {}

    def next_job():
        if not jobs:
            app.quit()
            return
        page, name = jobs[0]
        view.resize(WIDTHS[name], 900)
        view.load(QUrl.fromLocalFile(str((html / page).resolve())))

    def measured(text, page, name):
        report = json.loads(text)
        results[page, name] = report["problems"]
        # A full-page screenshot: the window as tall as the page.
        view.resize(WIDTHS[name], min(report["height"], MAX_HEIGHT))
        QTimer.singleShot(800, lambda: saved(page, name))

    def saved(page, name):
        target = output / name / page.with_suffix(".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        view.grab().save(str(target))
        jobs.pop(0)
        next_job()

    def loaded(ok):
        page, name = jobs[0]
        if not ok:
            results[page, name] = [{"kind": "page", "what": "did not load",
                                    "content": 0, "box": 0}]
            jobs.pop(0)
            next_job()
            return
        # Fonts and figures settle after the load event.
        QTimer.singleShot(800, lambda: view.page().runJavaScript(
            MEASURE, lambda text: measured(text, page, name)))

    view.loadFinished.connect(loaded)
    view.show()
    QTimer.singleShot(0, next_job)
    app.exec()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=Path("docs/_build/html"))
    parser.add_argument("--output", type=Path, default=Path("docs/_build/screenshots"))
    parser.add_argument("pages", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if not (args.html / "index.html").is_file():
        parser.error(f"no built site in {args.html}: run 'make docs' first")
    pages = args.pages or site_pages(args.html)
    results = shoot(args.html, pages, args.output)
    failed = False
    for (page, name), problems in sorted(results.items()):
        for problem in problems:
            failed = True
            print(f"{page} at {WIDTHS[name]} px: {problem['kind']} "
                  f"{problem['content']} px in {problem['box']} px: {problem['what']!r}")
    print(f"{len(pages)} pages at {' and '.join(f'{w} px' for w in WIDTHS.values())}: "
          f"{'problems above' if failed else 'everything fits'}; screenshots in {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
