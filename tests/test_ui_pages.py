"""Dashboard pages and offline docs over real HTTP (no browser): status, content, no CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from tests.conftest import TEMPLATE, LiveServer
from tests.ui_data import load_dashboard_data

PAGES = [
    "/ui/overview",
    "/ui/curves",
    "/ui/curves?tier=frontier&interval=week&include_free=true",
    "/ui/deflation",
    "/ui/deflation?benchmark=MMLU&threshold=80",
    "/ui/prices",
    "/ui/prices?provider=anthropic",
    "/ui/gpus",
    "/ui/changes",
    "/ui/pipeline",
    "/ui/alerts",
    "/docs",
    "/redoc",
]
# src=/href= values that point off this server (a CDN, a web font, a script host).
EXTERNAL = re.compile(r"""(?:src|href)=["'](?:https?:)?//(?!127\.0\.0\.1|localhost)""")


@pytest.fixture(scope="module")
def loaded(pg: EmbeddedPostgres) -> Iterator[Engine]:
    pg.ensure_database("ui_pages", template=TEMPLATE)
    engine = make_engine(pg.url("ui_pages"))
    load_dashboard_data(engine)
    yield engine
    engine.dispose()
    pg.drop_database("ui_pages")


@pytest.fixture(scope="module")
def client(loaded: Engine) -> Iterator[httpx.Client]:
    from api.main import create_app

    with LiveServer(create_app(loaded)) as server, httpx.Client(base_url=server.url) as http:
        yield http


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_html_that_loads_nothing_from_another_host(
    client: httpx.Client, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert not EXTERNAL.findall(response.text), EXTERNAL.findall(response.text)
    for asset in re.findall(r"""src=["'](/[^"']+)""", response.text):
        assert client.get(asset).status_code == 200, asset


def test_root_redirects_to_the_overview(client: httpx.Client) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/overview"


def test_plotly_is_served_from_the_installed_package(client: httpx.Client) -> None:
    from importlib import resources

    response = client.get("/ui/vendor/plotly.min.js")
    shipped = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    assert response.status_code == 200
    assert response.content == shipped
    assert "max-age" in response.headers["cache-control"]


def test_unknown_assets_are_404_not_files_outside_the_package(client: httpx.Client) -> None:
    assert client.get("/ui/vendor/../../pyproject.toml").status_code == 404
    assert client.get("/ui/static/..%2Fpages.py").status_code == 404
    assert client.get("/ui/vendor/jquery.js").status_code == 404


def test_gpu_series_route_matches_the_rates_it_summarises(client: httpx.Client) -> None:
    body = client.get("/v1/gpu-rates/series", params={"gpu": "H100-SXM-80GB"}).json()
    assert body["unit"] == "usd_per_gpu_hour"
    assert body["items"]
    current = client.get("/v1/gpu-rates", params={"gpu": "H100-SXM-80GB", "limit": 1000}).json()[
        "items"
    ]
    latest = {}
    for row in body["items"]:
        latest[row["pricing"]] = row
    for pricing, row in latest.items():
        rates = [r["usd_per_gpu_hour"] for r in current if r["pricing"] == pricing]
        assert row["min"] <= row["median"]
        assert row["count"] >= 1
        if rates and row["as_of"] >= max(r["last_seen_at"] for r in current):
            assert row["min"] == pytest.approx(min(rates))


def test_gpu_series_rejects_an_unknown_gpu_with_a_422(client: httpx.Client) -> None:
    response = client.get("/v1/gpu-rates/series", params={"gpu": "NOPE-1GB"})
    assert response.status_code == 422
    assert "unknown GPU" in response.json()["detail"]


def test_bad_page_filters_are_a_422_naming_the_parameter(client: httpx.Client) -> None:
    response = client.get("/ui/curves", params={"interval": "year"})
    assert response.status_code == 422
    assert "interval" in response.json()["detail"]


def test_gpu_series_caps_buckets_like_the_curves(client: httpx.Client) -> None:
    response = client.get(
        "/v1/gpu-rates/series",
        params={
            "gpu": "H100-SXM-80GB",
            "interval": "day",
            "from": "2000-01-01",
            "to": "2100-01-01",
        },
    )
    assert response.status_code == 422
    assert "buckets" in response.json()["detail"]


def test_cost_curve_counts_other_variants_only_when_asked(client: httpx.Client) -> None:
    variants = {
        r["variant"]
        for r in client.get("/v1/prices", params={"limit": 1000, "include_stale": True}).json()[
            "items"
        ]
    }
    extra = sorted(variants - {"standard"})
    assert extra, "the recorded captures list no batch/flex/priority prices"
    standard = client.get("/v1/cost-curve").json()["points"]
    assert client.get("/v1/cost-curve", params={"variant": "standard"}).json()["points"] == standard
    wider = client.get("/v1/cost-curve", params={"variant": ["standard", *extra]}).json()["points"]
    by_bucket = {(p["bucket_start"], p["tier"]): p for p in standard}
    assert wider != standard, "asking for the other variants changed no bucket"
    for point in wider:
        same = by_bucket.get((point["bucket_start"], point["tier"]))
        if same is not None:
            # One more way to buy a (provider, model) can only lower its price.
            assert point["min"] <= same["min"]
    page = client.get("/ui/curves", params={"variant": ["standard", extra[0]]}).text
    assert f'value="{extra[0]}" checked' in page


def test_prices_page_says_how_many_stale_prices_it_hides_and_shows_them_marked(
    client: httpx.Client,
) -> None:
    # The recorded captures are months old, so most of their prices are stale today.
    fresh = client.get("/v1/prices", params={"limit": 1}).json()["total"]
    every = client.get("/v1/prices", params={"limit": 1, "include_stale": "true"}).json()["total"]
    assert every > fresh
    page = client.get("/ui/prices").text
    hidden = re.search(r'<span id="hidden-stale">(\d+) stale price', page)
    assert hidden is not None
    assert int(hidden.group(1)) == every - fresh
    link = re.search(r'hidden: <a href="([^"]+)">show them</a>', page)
    assert link is not None
    assert "include_stale=true" in link.group(1)
    shown = client.get(link.group(1).replace("&amp;", "&")).text
    assert "hidden-stale" not in shown
    assert f"of {every} current prices shown" in shown
    assert 'data-key="status" data-value="stale"' in shown
