"""``serve-api --workers N``: listening sockets bound here, N spawned uvicorn processes.

Why not ``uvicorn.run(..., workers=N)``: its supervisor binds the socket with
``Config.bind_socket()``, which before uvicorn 0.55 left the socket's ``proto``
at 0. Accepted sockets inherit ``proto``, and asyncio turns ``TCP_NODELAY`` on
only for sockets that report ``IPPROTO_TCP``, so Nagle's algorithm stayed on:
every keep-alive response after the first (headers and body are two writes)
waited for the client's delayed ACK, about 40 ms on Linux (uvicorn issue
#3149; issue 19 measured 85-89 req/s instead of about 1,000). The supervisor
(``uvicorn.supervisors.Multiprocess``) is also private and its signature
changed between the versions pyproject allows.

So we bind the sockets here, where both fixes hold whatever uvicorn or event
loop is installed: each is created with ``IPPROTO_TCP`` (asyncio then sets
``TCP_NODELAY`` on each accepted connection) and ``TCP_NODELAY`` is set on the
listener itself, which Linux copies to every socket ``accept()`` returns. The
workers get their socket through uvicorn's public ``Server.run(sockets=...)``;
``listen_sockets`` says why each worker has its own on Linux.

Workers are spawned, not forked: the parent holds a connection pool and the
embedded database's handles, which a forked child must not share. Each worker
builds its own engine and app against the database the parent opened.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import typer

# uvicorn's exit status when a worker fails before serving (bad app, bad
# database URL): restarting it would fail the same way.
STARTUP_FAILURE = 3
BACKLOG = 2048
# Seconds a worker gets to finish its requests after SIGTERM before SIGKILL.
STOP_GRACE_S = 20.0
# A worker that dies sooner than this after its start failed to start (an
# import or start-up error): restarting it would loop, so serve-api stops.
MIN_UPTIME_S = 10.0


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs (picklable: it crosses the spawn)."""

    database_url: str
    frames_dir: str  # where the workers share the version frames (api/frame_share.py)
    proxy_headers: bool = True


def listen_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A TCP listening socket whose accepted connections have TCP_NODELAY."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def listen_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """One listening socket per worker on Linux (SO_REUSEPORT), else one shared.

    With one shared socket every idle worker wakes on a new connection and
    the first one accepts everything queued (asyncio drains the queue), so a
    client that opens its keep-alive connections together often lands them
    all on one worker, which then serves alone for their whole life. With a
    socket per worker the kernel spreads connections over the sockets by a
    hash of the address pair. The parent keeps every socket open, so a
    worker's restart loses nothing queued on its socket. A plain bind first
    refuses a port another process already listens on (SO_REUSEPORT alone
    would share it with another serve-api of the same user).
    """
    if count == 1 or not sys.platform.startswith("linux"):
        return [listen_socket(host, port)]
    if port != 0:
        listen_socket(host, port).close()  # EADDRINUSE when the port is taken
    first = listen_socket(host, port, reuse_port=True)
    bound = first.getsockname()[1]
    sockets = [first]
    try:
        sockets += [listen_socket(host, bound, reuse_port=True) for _ in range(count - 1)]
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _worker_main(spec: WorkerSpec, sock: socket.socket) -> None:
    """A worker: its own engine on the parent's database, serving ``sock``."""
    import uvicorn

    # Anything in the worker that opens the configured database gets the
    # parent's, never an embedded server of its own.
    os.environ["DATABASE_URL"] = spec.database_url
    os.environ["COSTCURVE_API_FRAMES_DIR"] = spec.frames_dir
    from api.main import create_app

    config = uvicorn.Config(create_app, factory=True, proxy_headers=spec.proxy_headers)
    # uvicorn re-raises the signal it stopped on; a normal return is exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Keeps ``workers`` processes serving the sockets until SIGTERM or SIGINT."""

    def __init__(self, spec: WorkerSpec, sockets: list[socket.socket], workers: int) -> None:
        self._spec, self._sockets, self._workers = spec, sockets, workers
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self.processes: list[BaseProcess] = []
        self._started_at: dict[int, float] = {}

    def _start_one(self, slot: int) -> BaseProcess:
        """Worker ``slot`` serves socket ``slot`` (the only one when they share)."""
        sock = self._sockets[slot % len(self._sockets)]
        process = self._context.Process(
            target=_worker_main, args=(self._spec, sock), name=f"costcurve-api-worker-{slot}"
        )
        process.start()
        self._started_at[id(process)] = time.monotonic()
        return process

    def run(self) -> None:
        """Serve until a signal; raises ``typer.Exit(1)`` if a worker cannot start."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stop.set())
        self.processes = [self._start_one(slot) for slot in range(self._workers)]
        failed = False
        try:
            while not self._stop.wait(0.5):
                failed = self._replace_dead()
                if failed:
                    break
        finally:
            self._stop_all()
        if failed:
            typer.echo("error: an API worker failed to start (see its log above)", err=True)
            raise typer.Exit(1)

    def _replace_dead(self) -> bool:
        """Restart workers that died; True when one failed at start-up (stop all)."""
        for i, process in enumerate(self.processes):
            if process.is_alive() or self._stop.is_set():
                continue
            process.join()
            uptime = time.monotonic() - self._started_at.pop(id(process))
            if process.exitcode == STARTUP_FAILURE or uptime < MIN_UPTIME_S:
                return True
            typer.echo(
                f"API worker {process.pid} exited ({process.exitcode}); restarting", err=True
            )
            self.processes[i] = self._start_one(i)
        return False

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes in-flight requests
        for process in self.processes:
            process.join(STOP_GRACE_S)
            if process.is_alive():
                process.kill()
                process.join()
