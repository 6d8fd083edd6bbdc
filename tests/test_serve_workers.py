"""`serve-api --workers N`: real processes, real HTTP, one socket with TCP_NODELAY."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costcurve.cli.workers import listen_socket, listen_sockets
from tests.conftest import free_port

COSTCURVE = [sys.executable, "-m", "costcurve"]


def test_connections_accepted_on_the_listening_socket_have_tcp_nodelay() -> None:
    with listen_socket("127.0.0.1", 0) as server:
        assert server.proto == socket.IPPROTO_TCP  # asyncio's condition for setting it
        with socket.create_connection(server.getsockname()[:2]) as _client:
            accepted, _ = server.accept()
            with accepted:
                # Set by the kernel from the listener, before any event loop sees it.
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
                assert accepted.proto == socket.IPPROTO_TCP


def test_each_worker_socket_shares_the_port_and_a_taken_port_is_refused() -> None:
    port = free_port()
    sockets = listen_sockets("127.0.0.1", port, 2)
    try:
        assert [s.getsockname()[1] for s in sockets] == [port, port]
        assert all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1 for s in sockets)
        # Another serve-api on the same port fails instead of sharing its connections.
        with pytest.raises(OSError, match="in use"):
            listen_sockets("127.0.0.1", port, 2)
    finally:
        for sock in sockets:
            sock.close()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _server_side_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of our loopback connection (/proc/net/tcp)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            if (int(local, 16), int(remote, 16)) == (server_port, client_port):
                return fields[9]
    return None


def _owner(inode: str, pids: set[int]) -> int | None:
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _serving_pid(port: int, children: set[int]) -> int | None:
    """GET /livez on a new connection; the worker process holding that connection."""
    # A connection the kernel gave a worker still importing the app waits in
    # that worker's queue until it serves: minutes on a busy 2-core machine.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
    try:
        conn.request("GET", "/livez")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b'{"status":"ok"}'
        assert conn.sock is not None
        inode = _server_side_inode(port, conn.sock.getsockname()[1])
        return _owner(inode, children) if inode else None
    finally:
        conn.close()


def _wait_up(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    out = proc.stdout.read() if proc.poll() is not None and proc.stdout else ""
    pytest.fail(f"serve-api --workers 2 did not come up: {out}")


@pytest.mark.slow
def test_two_workers_serve_requests_and_stop_with_exit_zero(db_url: str) -> None:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("COSTCURVE_", "PREFECT_"))}
    environ["DATABASE_URL"] = db_url
    proc = subprocess.Popen(
        [*COSTCURVE, "serve-api", "--port", str(port), "--workers", "2"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_up(port, proc)
        children = _children(proc.pid)
        served: set[int] = set()
        deadline = time.monotonic() + 240  # workers import the app after the socket listens
        while len(served) < 2 and time.monotonic() < deadline:
            pid = _serving_pid(port, children)
            if pid is not None:
                served.add(pid)
        assert len(served) == 2, f"requests were served by {served} only"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)], out
