"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live_server.

Playwright's sync API keeps an asyncio loop in the test thread, so Django refuses ORM
calls there unless told it is safe; the live server answers from its own thread.

Every browser context a test opens (through `page`, `new_page` or `browser.new_context`)
is watched for Content-Security-Policy violations, in every frame of every page; a test
whose pages reported one fails in its teardown, naming each.
"""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
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
# How long a page without JavaScript is given for its last console messages to arrive.
STRAGGLERS_MS = 200

CSP_BINDING = "__turnoutCspViolation"
# Runs in every frame before the page's own scripts (srcdoc frames included, and any
# same-origin frame), so no violation escapes the listener. Frames that may not run
# scripts (sandboxed previews) are covered by the console messages below.
CSP_LISTENER = f"""
window.addEventListener("securitypolicyviolation", (event) => {{
  const report = window.{CSP_BINDING};
  if (typeof report !== "function") return;
  report({{
    blockedURI: event.blockedURI,
    violatedDirective: event.violatedDirective,
    sourceFile: event.sourceFile,
    lineNumber: event.lineNumber,
    sample: event.sample,
  }});
}}, true);
"""
# What Chromium prints for a violation ("Executing inline script violates the following
# Content Security Policy directive ...", "Refused to load the image ..." in older
# versions), and for a policy header it cannot read.
CSP_CONSOLE = re.compile(
    r"^Refused to |Content Security Policy|Content-Security-Policy|Permissions-Policy"
)


@dataclass(frozen=True)
class Violation:
    source: str  # "event" (securitypolicyviolation) or "console"
    page_url: str
    frame_url: str
    blocked_uri: str
    directive: str
    detail: str

    def __str__(self) -> str:
        where = self.page_url
        if self.frame_url and self.frame_url != self.page_url:
            where += f" (in frame {self.frame_url})"
        if self.source == "console":
            return f"{where}: console: {self.detail}"
        return (
            f"{where}: blocked {self.blocked_uri!r} by {self.directive} {self.detail}"
        )


class CspWatch:
    """Collects the CSP violations the pages of the watched contexts report.

    Two witnesses: a `securitypolicyviolation` listener in every frame that runs
    scripts, and Chromium's console messages as a backstop for the frames that do
    not (sandboxed previews, pages with JavaScript switched off). A violation is
    usually reported by both.
    """

    def __init__(self):
        self.violations: list[Violation] = []
        self.contexts: list = []
        # Playwright's evaluate() never returns in a page without JavaScript.
        self.scriptless: set = set()

    def watch(self, context, *, scripts: bool = True):
        if not scripts:
            self.scriptless.add(context)
        context.expose_binding(CSP_BINDING, self._on_event)
        context.add_init_script(CSP_LISTENER)
        context.on("console", self._on_console)
        self.contexts.append(context)
        return context

    def _on_event(self, source, record):
        self.violations.append(
            Violation(
                source="event",
                page_url=source["page"].url,
                frame_url=source["frame"].url,
                blocked_uri=record["blockedURI"],
                directive=record["violatedDirective"],
                detail=f"({record['sample']!r} at {record['sourceFile']}:"
                f"{record['lineNumber']})",
            )
        )

    def _on_console(self, message):
        if not CSP_CONSOLE.search(message.text):
            return
        self.violations.append(
            Violation(
                source="console",
                page_url=message.page.url if message.page else "",
                frame_url=message.location.get("url", ""),
                blocked_uri="",
                directive="",
                detail=message.text.strip(),
            )
        )

    def open_contexts(self) -> list:
        self.contexts = [c for c in self.contexts if not c.is_closed()]
        return self.contexts

    def flush(self) -> None:
        """Lets every open page dispatch the violation events it has queued, and
        Playwright deliver them here."""
        from playwright.sync_api import Error

        for context in self.open_contexts():
            for page in context.pages:
                try:
                    if context in self.scriptless:
                        # Nothing to wait on: the renderer's last console
                        # messages get a moment to arrive.
                        page.wait_for_timeout(STRAGGLERS_MS)
                    else:
                        page.evaluate("() => new Promise((r) => setTimeout(r, 0))")
                except Error:
                    pass  # closed or navigating meanwhile

    def take(self, at_least: int = 0) -> list[Violation]:
        """The violations recorded so far, forgotten here; waits (up to the
        tests' timeout) until there are `at_least` that many."""
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        self.flush()
        while len(self.violations) < at_least and time.monotonic() < deadline:
            self.flush()
        taken, self.violations = self.violations, []
        return taken

    def assert_clean(self) -> None:
        self.flush()
        if self.violations:
            raise AssertionError(
                "the browser reported Content-Security-Policy violations:\n"
                + "\n".join(f"- {violation}" for violation in self.violations)
            )


class WatchedBrowser:
    """The session's Chromium, whose every new context is watched by `csp`."""

    def __init__(self, browser, csp: CspWatch):
        self._browser = browser
        self.csp = csp

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **options):
        if options.get("bypass_csp"):
            raise ValueError("browser tests run under the site's real CSP")
        return self.csp.watch(
            self._browser.new_context(**options),
            scripts=options.get("java_script_enabled", True),
        )

    def new_page(self, **options):
        # The context is closed with the others at the end of the test.
        return self.new_context(**options).new_page()


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
    """One headless Chromium for the whole session; its contexts are CSP-watched."""
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
    yield WatchedBrowser(browser, CspWatch())
    browser.close()
    playwright.stop()


@pytest.fixture(autouse=True)
def csp_violations(request):
    """The CSP watch of this test's browser contexts (None for a test without a
    browser). At teardown it closes the contexts still open and fails the test if
    any page reported a violation; a test that provokes one on purpose `take()`s it."""
    if "browser" not in request.fixturenames:
        yield None
        return
    watch = request.getfixturevalue("browser").csp
    watch.violations.clear()
    yield watch
    try:
        watch.assert_clean()
    finally:
        for context in watch.open_contexts():
            context.close()
        watch.contexts.clear()
        watch.scriptless.clear()
        watch.violations.clear()


def _artifact_name(nodename: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodename).strip("_")


@pytest.fixture
def new_page(browser, request, csp_violations):
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
    if failed:
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        name = _artifact_name(request.node.name)
        pages = [page for context in contexts for page in context.pages]
        for number, page in enumerate(pages, start=1):
            suffix = "" if number == 1 else f"-{number}"
            path = ARTIFACTS_DIR / f"{name}{suffix}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of {page.url} saved to {path}")
    # The contexts stay open for csp_violations, which checks their pages last and
    # closes them.


@pytest.fixture
def page(new_page):
    """A page in its own browser context: en-US, America/Los_Angeles."""
    return new_page()
