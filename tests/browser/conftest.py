"""Playwright (sync API) against pytest-django's live server, in the OS's headless Chromium.

The browser is Debian's `chromium` (scripts/ensure-test-tools.sh installs it); Playwright never
downloads one. A failing test leaves a full-page screenshot in test-artifacts/browser-<db>/,
which each run empties first so what is there belongs to the last run.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.db import connection

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM
# calls from the test body as "async-unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct-horse-battery-staple"  # tests.factories.UserFactory's


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _artifacts_dir() -> Path:
    return ARTIFACTS / f"browser-{connection.vendor}"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package "
            "(scripts/ensure-test-tools.sh) or set CHROMIUM_PATH; browser tests never download one"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def _fresh_artifacts(django_db_setup):
    shutil.rmtree(_artifacts_dir(), ignore_errors=True)


@pytest.fixture
def page(browser, request, _fresh_artifacts):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        failed = any(
            getattr(request.node, f"report_{when}", None) is not None
            and getattr(request.node, f"report_{when}").failed
            for when in ("setup", "call")
        )
        if failed:
            folder = _artifacts_dir()
            folder.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        context.close()


@pytest.fixture
def log_in(page, live_server):
    """log_in(username): sign in to the admin through its login form."""

    def log_in(username: str) -> None:
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/admin/")

    return log_in
