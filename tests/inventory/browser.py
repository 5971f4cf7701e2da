"""A real headless browser for the inventory page: Debian's chromium driven by Playwright, and
a 127.0.0.1 server for the site (served as a bucket would serve it)."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]


def chromium() -> str:
    """The system chromium; an AssertionError saying how to get it when there is none."""
    found = shutil.which("chromium")
    assert found, (
        "chromium is not installed: `make setup` installs Debian's chromium with apt-get "
        "(as root or through sudo); the inventory page's browser test cannot run without it"
    )
    return found


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Visit:
    """What a page load did: console errors, page errors and every request made."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    texts: dict[str, Any] = field(default_factory=dict)


@contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def visit(
    launched: Any, url: str, screenshot: Path | None = None, probe: str = "() => null"
) -> Visit:
    """Load `url`, wait until the network is idle, evaluate `probe`, screenshot if asked."""
    seen = Visit()
    page = launched.new_page(viewport={"width": 1200, "height": 800})
    page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.console_errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("requestfailed", lambda r: seen.failed.append(r.url))
    page.goto(url, wait_until="networkidle")
    seen.texts = {"probe": page.evaluate(probe)}
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return seen


def main(argv: list[str]) -> int:
    """`python -m tests.inventory.browser SITE_DIR OUT.png [PAGE]`: the screenshot in the README
    (docs/img/inventory.png), taken the way the test takes its own."""
    site, out = Path(argv[0]), Path(argv[1])
    page = argv[2] if len(argv) > 2 else "index.html"
    with serve(site) as base, browser() as launched:
        seen = visit(launched, base + page, out)
    assert not seen.console_errors, seen.console_errors
    print(f"{out}: {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
