"""Static files of the dashboard and the offline API docs, all served by the app itself.

Third-party assets come from the Python packages that ship them, pinned in
pyproject.toml, so nothing is fetched from a CDN and nothing vendored is committed:
Plotly.js from ``plotly`` (``plotly/package_data``, MIT); Swagger UI (Apache-2.0)
and ReDoc (MIT) from ``fastapi-offline`` (MIT). Their version is in the URL
(``?v=``), so they are cached for a day.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata, resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)

OWN = Path(__file__).parent / "static"
CACHE = {"Cache-Control": "public, max-age=86400"}


def _package_dir(package: str, *parts: str) -> Path:
    return Path(str(resources.files(package).joinpath(*parts)))


# name -> (file, media type); the only third-party files the app serves.
VENDOR: dict[str, tuple[Path, str]] = {
    "plotly.min.js": (
        _package_dir("plotly", "package_data", "plotly.min.js"),
        "text/javascript",
    ),
    "swagger-ui-bundle.js": (
        _package_dir("fastapi_offline", "static", "swagger-ui-bundle.js"),
        "text/javascript",
    ),
    "swagger-ui.css": (_package_dir("fastapi_offline", "static", "swagger-ui.css"), "text/css"),
    "redoc.standalone.js": (
        _package_dir("fastapi_offline", "static", "redoc.standalone.js"),
        "text/javascript",
    ),
    "favicon.png": (_package_dir("fastapi_offline", "static", "favicon.png"), "image/png"),
}
# ReDoc's sidebar shows a logo it loads from its CDN; point it at a local image.
REWRITES: dict[str, tuple[tuple[bytes, bytes], ...]] = {
    "redoc.standalone.js": (
        (b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"/ui/vendor/favicon.png"),
    ),
}
_MEDIA = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


def vendor_url(name: str) -> str:
    package = "plotly" if name.startswith("plotly") else "fastapi-offline"
    return f"/ui/vendor/{name}?v={metadata.version(package)}"


def static_url(name: str) -> str:
    stamp = int((OWN / name).stat().st_mtime)
    return f"/ui/static/{name}?v={stamp}"


@cache
def _rewritten(name: str) -> bytes:
    body = VENDOR[name][0].read_bytes()
    for old, new in REWRITES[name]:
        body = body.replace(old, new)
    return body


@router.get("/ui/vendor/{name}", response_model=None)
def vendor(name: str) -> FileResponse | Response:
    if name not in VENDOR:
        raise HTTPException(404, detail=f"no vendored asset {name!r}")
    path, media_type = VENDOR[name]
    if name in REWRITES:
        return Response(_rewritten(name), media_type=media_type, headers=CACHE)
    return FileResponse(path, media_type=media_type, headers=CACHE)


@router.get("/ui/static/{name}")
def own_static(name: str) -> FileResponse:
    path = OWN / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, detail=f"no static file {name!r}")
    return FileResponse(path, media_type=_MEDIA.get(path.suffix), headers=CACHE)


def install_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` over the local assets (create the app with both set to None)."""
    openapi_url = app.openapi_url or "/openapi.json"
    oauth_redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - API docs",
            oauth2_redirect_url=oauth_redirect,
            swagger_js_url=vendor_url("swagger-ui-bundle.js"),
            swagger_css_url=vendor_url("swagger-ui.css"),
            swagger_favicon_url=vendor_url("favicon.png"),
            # No badge calling the public validator service.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(oauth_redirect, include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - API reference",
            redoc_js_url=vendor_url("redoc.standalone.js"),
            redoc_favicon_url=vendor_url("favicon.png"),
            with_google_fonts=False,
        )
