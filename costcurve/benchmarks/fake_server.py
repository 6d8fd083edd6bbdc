"""A real OpenAI-compatible streaming server with known timing, for CI without a GPU.

``python -m benchmarks.fake_server --port 0 --ttft-ms 50 --itl-ms 10`` serves
``POST /v1/completions``, ``POST /v1/chat/completions`` (``stream`` true or
false), ``GET /v1/models`` and ``GET /health`` on 127.0.0.1 and prints
``READY http://127.0.0.1:<port>`` once it accepts connections.

The "model" emits one whitespace-separated word per token, one token per SSE
chunk: the first ``ttft_ms`` after the request arrives, then one every
``itl_ms``, scheduled against absolute deadlines so sleep overshoot does not
accumulate. It stops at ``max_tokens``; with ``--eos-after N`` it also stops
after N tokens unless the request sets ``ignore_eos``. A final chunk carries
``usage`` (prompt tokens are counted as whitespace-separated words), then
``data: [DONE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_MAX_TOKENS = 16
_MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True)
class Timing:
    ttft_ms: float = 50.0
    itl_ms: float = 10.0
    eos_after: int | None = None
    model: str = "fake-model"


class BadRequest(Exception):
    pass


def _prompt_tokens(body: dict[str, Any], chat: bool) -> int:
    if not chat:
        prompt = body.get("prompt", "")
        texts = prompt if isinstance(prompt, list) else [prompt]
        return sum(len(str(t).split()) for t in texts)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty list")
    count = 0
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        parts = content if isinstance(content, list) else [content]
        for part in parts:
            text = part.get("text", "") if isinstance(part, dict) else part
            count += len(str(text or "").split())
    return count


def _completion_tokens(body: dict[str, Any], timing: Timing) -> tuple[int, str]:
    limit = body.get("max_completion_tokens", body.get("max_tokens", DEFAULT_MAX_TOKENS))
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise BadRequest(f"max_tokens must be a positive integer, got {limit!r}")
    if timing.eos_after is not None and not body.get("ignore_eos") and timing.eos_after < limit:
        return timing.eos_after, "stop"
    return limit, "length"


def _token(i: int) -> str:
    return f" w{i}"


class FakeOpenAI:
    """A bare ASGI app (no framework) so the server costs little per chunk."""

    def __init__(self, timing: Timing) -> None:
        self.timing = timing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"].rstrip("/"), scope["method"]
        if path in ("/health", "/v1/models") and method == "GET":
            await self._json(send, 200, self._models() if path == "/v1/models" else {})
            return
        if path not in ("/v1/completions", "/v1/chat/completions"):
            await self._error(send, 404, f"no route {method} {scope['path']}")
            return
        if method != "POST":
            await self._error(send, 405, f"{path} takes POST")
            return
        arrived = time.perf_counter()
        try:
            body = json.loads(await self._body(receive))
            if not isinstance(body, dict):
                raise BadRequest("the request body must be a JSON object")
            chat = path.endswith("chat/completions")
            prompt_tokens = _prompt_tokens(body, chat)
            n, finish = _completion_tokens(body, self.timing)
        except (BadRequest, ValueError) as exc:
            await self._error(send, 400, str(exc))
            return
        model = str(body.get("model") or self.timing.model)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": n,
            "total_tokens": prompt_tokens + n,
        }
        if body.get("stream"):
            await self._stream(send, arrived, chat, model, n, finish, usage)
        else:
            await self._wait_until(arrived, n - 1)
            text = "".join(_token(i) for i in range(n))
            choice: dict[str, Any] = {"index": 0, "finish_reason": finish, "logprobs": None}
            if chat:
                choice["message"] = {"role": "assistant", "content": text}
            else:
                choice["text"] = text
            doc = self._envelope(chat, uuid.uuid4().hex[:16], model, [choice], usage)
            if chat:
                doc["object"] = "chat.completion"
            await self._json(send, 200, doc)

    async def _wait_until(self, arrived: float, index: int) -> None:
        """Sleep until token ``index`` (0-based) is due."""
        t = self.timing
        due = arrived + (t.ttft_ms + index * t.itl_ms) / 1000.0
        delay = due - time.perf_counter()
        # sleep(0) still yields, so zero-delay streams interleave fairly.
        await asyncio.sleep(delay if delay > 0 else 0)

    async def _stream(
        self,
        send: Send,
        arrived: float,
        chat: bool,
        model: str,
        n: int,
        finish: str,
        usage: dict[str, int],
    ) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream"),
                    (b"cache-control", b"no-cache"),
                ],
            }
        )
        rid = uuid.uuid4().hex[:16]
        head = self._envelope(chat, rid, model, [], None)
        prefix = json.dumps(head)[:-1].replace('"choices": []', '"choices": [')
        for i in range(n):
            await self._wait_until(arrived, i)
            reason = json.dumps(finish if i == n - 1 else None)
            if chat:
                delta = {"content": _token(i)} | ({"role": "assistant"} if i == 0 else {})
                choice = f'{{"index": 0, "delta": {json.dumps(delta)}, "finish_reason": {reason}}}'
            else:
                text = json.dumps(_token(i))
                choice = (
                    f'{{"index": 0, "text": {text}, "logprobs": null, "finish_reason": {reason}}}'
                )
            chunk = f"data: {prefix}{choice}]}}\n\n"
            await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})
        tail = json.dumps(self._envelope(chat, rid, model, [], usage))
        await send(
            {
                "type": "http.response.body",
                "body": f"data: {tail}\n\ndata: [DONE]\n\n".encode(),
                "more_body": False,
            }
        )

    def _envelope(
        self, chat: bool, rid: str, model: str, choices: list[Any], usage: dict[str, int] | None
    ) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": f"{'chatcmpl' if chat else 'cmpl'}-{rid}",
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": int(time.time()),
            "model": model,
            "choices": choices,
        }
        if usage is not None:
            doc["usage"] = usage
        return doc

    def _models(self) -> dict[str, Any]:
        entry = {"id": self.timing.model, "object": "model", "owned_by": "costcurve-fake"}
        return {"object": "list", "data": [entry]}

    async def _body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BadRequest("client went away")
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > _MAX_BODY:
                raise BadRequest("request body too large")
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _json(self, send: Send, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _error(self, send: Send, status: int, message: str) -> None:
        await self._json(send, status, {"error": {"message": message, "code": status}})


def serve(host: str, port: int, timing: Timing) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    config = uvicorn.Config(
        FakeOpenAI(timing),
        lifespan="off",
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_keep_alive=60,
    )
    server = uvicorn.Server(config)
    bound = sock.getsockname()[1]

    async def main() -> None:
        # Bound and listening already, so a client that reads READY can connect.
        # stdout is this process's protocol with its parent (running_fake_server).
        print(f"READY http://{host}:{bound}", flush=True)  # noqa: T201
        await server.serve(sockets=[sock])

    asyncio.run(main())


@contextlib.contextmanager
def running_fake_server(
    *, ttft_ms: float, itl_ms: float, eos_after: int | None = None, start_timeout_s: float = 20.0
) -> Iterator[str]:
    """Start the server as a subprocess on a free 127.0.0.1 port; yield its base URL.

    The process is always terminated (then killed) when the block exits.
    """
    cmd = [sys.executable, "-m", "costcurve.benchmarks.fake_server", "--port", "0"]
    cmd += ["--ttft-ms", str(ttft_ms), "--itl-ms", str(itl_ms)]
    if eos_after is not None:
        cmd += ["--eos-after", str(eos_after)]
    # The repository root on PYTHONPATH, so the `-m` module resolves from any cwd.
    root = str(Path(__file__).resolve().parents[2])
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    }
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = _read_line(proc, start_timeout_s)
        if not line.startswith("READY "):
            raise RuntimeError(f"fake server did not start (exit {proc.poll()}): {line!r}")
        yield line.split(" ", 1)[1].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


def _read_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout_s):
            raise RuntimeError(f"fake server printed nothing within {timeout_s} s")
    return proc.stdout.readline()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--itl-ms", type=float, default=10.0)
    parser.add_argument("--eos-after", type=int, default=None)
    parser.add_argument("--model", default="fake-model")
    args = parser.parse_args(argv)
    if args.ttft_ms < 0 or args.itl_ms < 0:
        parser.error("--ttft-ms and --itl-ms must be >= 0")
    serve(args.host, args.port, Timing(args.ttft_ms, args.itl_ms, args.eos_after, args.model))


if __name__ == "__main__":
    main()
