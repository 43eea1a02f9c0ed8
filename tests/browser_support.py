"""Playwright on Debian's Chromium, driven through the sync API (no pytest-playwright plugin).

The fixtures are registered once, by tests/conftest.py, for every test folder: Playwright's sync
API allows one instance a thread, so a second copy of the session browser (a folder importing
these fixtures into its own conftest) would fail to start while the first is alive.

One browser for the session; each test opens its own contexts (one per person), closed after.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1200, "height": 800}
# A step waits at most this long for a page or an element: a broken page fails fast.
TIMEOUT_MS = 10_000

# Every journey takes its screenshots (a page that cannot be drawn fails the test); they replace
# the committed ones under docs/screenshots/ only when asked, so a test run leaves the tree clean:
#     UPDATE_SCREENSHOTS=1 make test
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def screenshots_dir(tmp_path_factory):
    return DOCS_SCREENSHOTS if UPDATE_SCREENSHOTS else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


class Person:
    """One person's browser: a context of its own (cookies, session), one page."""

    def __init__(self, browser, base_url, screenshots_dir):
        self.screenshots_dir = screenshots_dir
        self.context = browser.new_context(
            base_url=base_url, viewport=VIEWPORT, accept_downloads=False
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        # Every stylesheet and script the pages ask for must load: a 404 here means unstyled pages.
        self.broken_assets = []
        self.page.on("response", self._check_asset)

    def _check_asset(self, response):
        if "/static/" in response.url and response.status >= 400:
            self.broken_assets.append(f"{response.status} {response.url}")

    def screenshot(self, name):
        self.screenshots_dir.mkdir(parents=True, exist_ok=True)
        path = self.screenshots_dir / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 0

    def close(self):
        self.context.close()


@pytest.fixture
def open_browser(browser, live_server, screenshots_dir):
    """Open a fresh browser context for one person: ``customer = open_browser()``."""
    people = []

    def open_():
        person = Person(browser, live_server.url, screenshots_dir)
        people.append(person)
        return person

    yield open_
    for person in people:
        person.close()
