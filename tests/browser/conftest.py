"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live_server.

Playwright's sync API keeps an asyncio loop in the test thread, so Django refuses ORM
calls there unless told it is safe; the live server answers from its own thread.
"""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.conftest import service_missing  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for a slow CI machine, short enough that a missing element fails fast.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    # This hook sees every collected item, so only mark the ones in this folder.
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keeps each phase's report on the item (rep_setup, rep_call, rep_teardown), so
    # fixtures can tell in their teardown whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        service_missing("Chromium", f"{CHROMIUM} does not exist (apt install chromium)")
    from playwright.sync_api import Error, sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
    except Error as error:
        playwright.stop()
        # The first line says what went wrong; the rest is Playwright's launch log.
        first_line = str(error).strip().splitlines()[0]
        service_missing(
            "Chromium", f"Playwright could not launch {CHROMIUM}: {first_line}"
        )
    yield browser
    browser.close()
    playwright.stop()


def _artifact_name(nodename: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodename).strip("_")


@pytest.fixture
def new_page(browser, request):
    """Opens a page in a fresh browser context (its own cookies, so its own user).

    On a failed test every page opened here is saved as a full-page screenshot to
    test-artifacts/<test name>.png (later pages get -2, -3, ...).
    """
    contexts = []

    def open_page():
        context = browser.new_context(locale="en-US", timezone_id="America/Los_Angeles")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page

    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    try:
        if failed:
            ARTIFACTS_DIR.mkdir(exist_ok=True)
            name = _artifact_name(request.node.name)
            pages = [page for context in contexts for page in context.pages]
            for number, page in enumerate(pages, start=1):
                suffix = "" if number == 1 else f"-{number}"
                path = ARTIFACTS_DIR / f"{name}{suffix}.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"screenshot of {page.url} saved to {path}")
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page):
    """A page in its own browser context: en-US, America/Los_Angeles."""
    return new_page()
