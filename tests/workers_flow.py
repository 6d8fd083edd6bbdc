"""The flow that tests/test_prefect_workers.py deploys on the process pool.

Each execution appends one line, ``<flow-run id> <worker label> <pid>``, to a
file opened with O_APPEND (one ``write`` per line, so concurrent runs never
interleave): a flow run executed twice shows up twice. The worker label comes
from the worker's environment, which a process worker hands to its flow runs.
"""

from __future__ import annotations

import os
import time

from prefect import flow
from prefect.runtime import flow_run

WORKER_LABEL = "TEST_WORKER_LABEL"


@flow(name="record-execution")
def record_execution(record_file: str, hold_s: float = 1.0) -> str:
    run_id = str(flow_run.get_id())
    line = f"{run_id} {os.environ.get(WORKER_LABEL, '?')} {os.getpid()}\n"
    fd = os.open(record_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    # Held a moment so runs overlap and both workers have some to take.
    time.sleep(hold_s)
    return run_id
