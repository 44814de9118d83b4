#!/usr/bin/env python3
"""Screenshots of the main pages, from the demo archive (run scripts/demo first).

Serves a copy of .demo/tidings.sqlite3 (local feed paths masked) on 127.0.0.1 and saves PNGs of the home page, a
site timeline, an article, a version diff and a search into docs/screenshots/,
with Debian's chromium. Usage: scripts/screenshots.py [DATABASE]
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import uvicorn  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tidings.web import create_app  # noqa: E402

PAGES = {
    "home": "/?lang=zh",
    "timeline": "/site/%E5%B1%B1%E6%B5%B7%E6%97%A5%E6%8A%A5",
    "article": "/article/6",
    "diff": "/article/6/diff?from=6&to=11",
    "search": "/search?q=%E5%81%9C%E7%81%AB",
}


def masked_copy(database: Path, folder: Path) -> Path:
    """A copy of ``database`` whose local feed URLs do not show this machine's folders."""
    copy = folder / "screenshots.sqlite3"
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("UPDATE feeds SET url = replace(url, ?, 'file:///…')", (ROOT.as_uri(),))
    return copy


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".demo" / "tidings.sqlite3"
    database = masked_copy(source, Path(tempfile.mkdtemp()))
    server = uvicorn.Server(uvicorn.Config(create_app(database), host="127.0.0.1", port=8777, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for width, suffix in ((1100, ""), (390, "-phone")):
            page = browser.new_page(viewport={"width": width, "height": 900})
            for name, path in PAGES.items():
                page.goto(f"http://127.0.0.1:8777{path}")
                page.screenshot(path=str(out / f"{name}{suffix}.png"), full_page=True)
        browser.close()
    server.should_exit = True
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
