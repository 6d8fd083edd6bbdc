"""Which data version an answer comes from: the ``X-Data-Version`` header and the ETag.

The analytics cache (``api.curve_cache``) notes the version of the frames and
results a request reads; the middleware sends it as ``X-Data-Version`` and
``api.responses.cached`` puts it in the ETag, so a client can tell that two
answers come from the same data, and a conditional request never matches an
answer of another data version.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

HEADER = "X-Data-Version"

# One holder per request; the route's thread sees the same object (the context is
# copied into the worker thread, the holder it points to is shared).
_noted: ContextVar[list[str] | None] = ContextVar("data_version_noted", default=None)


def note(version: str) -> None:
    holder = _noted.get()
    if holder is not None and version not in holder:
        holder.append(version)


def noted() -> str | None:
    """The data version the current request answered from (the first one it read)."""
    holder = _noted.get()
    return holder[0] if holder else None


class DataVersionMiddleware:
    """Adds ``X-Data-Version`` to responses that read the analytics cache (pure ASGI)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: list[str] = []
        token = _noted.set(holder)

        async def send_with_version(message: Any) -> None:
            if message["type"] == "http.response.start" and holder:
                headers = list(message.get("headers", []))
                headers.append((HEADER.lower().encode(), holder[0].encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_version)
        finally:
            _noted.reset(token)
