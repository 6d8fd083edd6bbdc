"""The dashboard in a real browser: headless Chromium (the Debian package) via Playwright.

On a database loaded from recorded captures, every page loads with no console
error and no request leaving 127.0.0.1; every chart draws as many points as its
API route returns rows; table sorting and filtering change what is shown; an
alert rule is created and deleted through the page. A screenshot of each page
is kept under .data/screenshots/ (not committed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from tests.conftest import TEMPLATE, LiveServer
from tests.ui_data import load_dashboard_data

SCREENSHOTS = Path(__file__).resolve().parent.parent / ".data" / "screenshots"
PAGES = {
    "overview": "/ui/overview",
    "curves": "/ui/curves",
    "curves-week-free": "/ui/curves?tier=frontier&interval=week&include_free=true",
    "curves-variants": "/ui/curves?variant=standard&variant=batch",
    "deflation": "/ui/deflation?benchmark=MMLU&threshold=80",
    "prices": "/ui/prices",
    "gpus": "/ui/gpus",
    "changes": "/ui/changes",
    "pipeline": "/ui/pipeline",
    "alerts": "/ui/alerts",
    "docs": "/docs",
    "redoc": "/redoc",
}
CHART_PAGES = ["overview", "curves", "curves-week-free", "curves-variants", "deflation", "gpus"]


def chromium_executable() -> str | None:
    """The system Chromium (Debian's `chromium`), or COSTCURVE_CHROMIUM."""
    explicit = os.environ.get("COSTCURVE_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def loaded(pg: EmbeddedPostgres) -> Iterator[Engine]:
    pg.ensure_database("ui_browser", template=TEMPLATE)
    engine = make_engine(pg.url("ui_browser"))
    load_dashboard_data(engine)
    yield engine
    engine.dispose()
    pg.drop_database("ui_browser")


@pytest.fixture(scope="module")
def server(loaded: Engine) -> Iterator[LiveServer]:
    from api.main import create_app

    with LiveServer(create_app(loaded)) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            "no Chromium found: `make test` installs Debian's chromium package "
            "(scripts/ensure-chromium); or set COSTCURVE_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """A browser tab on the test server that records requests and console errors."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path, wait_until="networkidle")
        assert response is not None, path
        assert response.status == 200, (path, response)

    def off_host(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).hostname not in ("127.0.0.1", None)]


@pytest.fixture
def visit(browser: Any, server: LiveServer) -> Iterator[Visit]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    tab = Visit(page, server.url)
    page.on("request", lambda r: tab.requests.append(r.url))
    page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.errors.append(str(e)))

    # Nothing may leave the machine: a request elsewhere is recorded (above) and refused.
    def gate(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", None):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", gate)
    yield tab
    context.close()


def shot(visit: Visit, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_offline_with_no_console_error(visit: Visit, name: str) -> None:
    visit.open(PAGES[name])
    if name == "docs":
        visit.page.wait_for_selector(".opblock", timeout=15000)
    if name == "redoc":
        visit.page.wait_for_selector("[role=search], .api-content", timeout=15000)
    shot(visit, name)
    assert visit.errors == []
    assert visit.off_host() == []
    if name not in ("docs", "redoc"):
        assert visit.page.locator("header nav a").count() >= 8
        assert _overflow(visit) <= 1, f"{name} is wider than 1280 px"


def _overflow(visit: Visit) -> int:
    """How far the page is wider than the window (wide tables scroll in their own box)."""
    width: int = visit.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


def test_pages_are_readable_at_phone_width(visit: Visit) -> None:
    visit.page.set_viewport_size({"width": 390, "height": 844})
    for name in ("overview", "prices", "curves"):
        visit.open(PAGES[name])
        shot(visit, f"{name}-phone")
        overflow = _overflow(visit)
        assert overflow <= 1, f"{name} is {overflow}px wider than the phone screen"
    assert visit.errors == []


_DRAWN = """el => {
  const traces = Array.from(el.querySelectorAll('.scatterlayer .trace'));
  let drawn = 0, data = 0;
  el.data.forEach((t, i) => {
    if (t.meta !== 'primary') return;
    data += t.y.filter(y => y !== null).length;
    drawn += traces[i].querySelectorAll('.points path').length;
  });
  return {drawn, data};
}"""


@pytest.mark.parametrize("name", CHART_PAGES)
def test_each_chart_draws_the_points_its_api_route_returns(
    visit: Visit, server: LiveServer, name: str
) -> None:
    visit.open(PAGES[name])
    charts = visit.page.locator(".chart[data-api]")
    assert charts.count() >= 1
    checked = 0
    with httpx.Client(base_url=server.url) as api:
        for i in range(charts.count()):
            chart = charts.nth(i)
            body = api.get(chart.get_attribute("data-api")).json()
            rows = body[chart.get_attribute("data-api-count")]
            value = chart.get_attribute("data-api-value")
            expected = sum(1 for r in rows if r[value] is not None)
            if expected == 0:
                continue
            chart.scroll_into_view_if_needed()
            visit.page.wait_for_function(
                "el => el.dataset.drawn === 'true'", arg=chart.element_handle()
            )
            counts = chart.evaluate(_DRAWN)
            assert counts == {"drawn": expected, "data": expected}, chart.get_attribute("id")
            checked += 1
    assert checked >= 1
    assert visit.errors == []


def _column(visit: Visit, key: str) -> list[str]:
    cells = visit.page.locator(f"#prices-table tbody tr:not([hidden]) td[data-key='{key}']")
    return [c.get_attribute("data-value") or c.inner_text() for c in cells.all()]


def test_prices_table_sorts_by_a_column_both_ways(visit: Visit) -> None:
    visit.open("/ui/prices?provider=anthropic")
    before = _column(visit, "blended")
    button = visit.page.locator("#prices-table button.sort[data-key='blended']")
    button.focus()
    visit.page.keyboard.press("Enter")  # keyboard-reachable
    ascending = [float(v) for v in _column(visit, "blended") if v]
    assert ascending == sorted(ascending)
    assert len(ascending) > 2
    button.click()
    descending = [float(v) for v in _column(visit, "blended") if v]
    assert descending == sorted(descending, reverse=True)
    assert sorted(before) == sorted(_column(visit, "blended"))
    shot(visit, "prices-sorted")


def test_prices_filters_change_the_rows_shown(visit: Visit, server: LiveServer) -> None:
    visit.open("/ui/prices")
    everything = visit.page.locator("#prices-table tbody tr").count()
    visit.page.fill("form.controls input[name=provider]", "anthropic")
    visit.page.click("form.controls button[type=submit]")
    visit.page.wait_for_url("**provider=anthropic**")
    providers = set(_column(visit, "provider"))
    total = httpx.get(server.url + "/v1/prices", params={"provider": "anthropic"}).json()["total"]
    assert providers == {"anthropic"}
    assert len(_column(visit, "provider")) == total < everything
    # The type-to-filter box narrows the shown rows without a request.
    requests_before = len(visit.requests)
    models = _column(visit, "model")
    needle = sorted(models)[0].split()[0][:10]
    visit.page.fill("#row-filter", needle)
    shown = _column(visit, "model")
    assert shown
    assert all(needle in m for m in shown)
    assert len(shown) <= len(models)
    assert visit.page.inner_text("#shown-count") == str(len(shown))
    assert len(visit.requests) == requests_before


def test_history_link_opens_the_offerings_price_chart(visit: Visit) -> None:
    visit.open("/ui/prices?provider=anthropic")
    visit.page.locator("#prices-table a:text('history')").first.click()
    visit.page.wait_for_selector(".chart[data-drawn=true]")
    shot(visit, "history")
    assert "/ui/prices/history" in visit.page.url
    assert visit.errors == []


def test_alert_rule_is_created_and_deleted_through_the_page(
    visit: Visit, loaded: Engine, server: LiveServer
) -> None:
    from costcurve.alerts.keys import create_key

    secret = create_key(loaded, "dashboard-test").secret
    visit.open("/ui/alerts")
    visit.page.fill("#api-key", secret)
    visit.page.click("#key-form button[type=submit]")
    visit.page.wait_for_selector("#rules-table td.empty")
    visit.page.fill("#rule-form input[name=name]", "frontier under a dollar")
    visit.page.select_option("#rule-form select[name=tier]", "frontier")
    visit.page.fill("#rule-form input[name=threshold]", "1")
    visit.page.fill("#rule-form input[name=channel]", "jsons://93.184.215.14/hook")
    visit.page.click("#rule-form button[type=submit]")
    row = visit.page.locator("#rules-table tr[data-rule-id]")
    row.wait_for()
    headers = {"X-API-Key": secret}
    listed = httpx.get(server.url + "/v1/alert-rules", headers=headers).json()["items"]
    assert [r["name"] for r in listed] == ["frontier under a dollar"]
    assert listed[0]["target"] == {"type": "tier", "tier": "frontier"}
    assert row.get_attribute("data-rule-id") == str(listed[0]["id"])
    shot(visit, "alerts-with-rule")
    row.locator("button:text('events')").click()
    visit.page.wait_for_selector("#events-table td.empty")
    row.locator("button:text('delete')").click()
    visit.page.wait_for_selector("#rules-table td.empty")
    assert httpx.get(server.url + "/v1/alert-rules", headers=headers).json()["items"] == []
    assert visit.errors == []
    assert visit.off_host() == []
