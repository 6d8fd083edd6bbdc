"""Versions after ingesting the same real captures in date order, shuffled and concurrently.

Prints, per trial, the believed / open / superseded version counts and whether
the valid-time history equals the sequential one (issue 16's order test).
Needs ../shared (the recorded captures). Usage: python -m bench.versioning_order [TRIALS]
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.migrate import upgrade
from tests.versioning_support import (
    captures,
    ingest_concurrently,
    valid_time_history,
    version_counts,
)


def main(trials: int = 20) -> None:
    base = Path(tempfile.mkdtemp(prefix="costcurve-bench-order-"))
    pg = EmbeddedPostgres(base, cleanup_mode="delete")
    pg.ensure_database("template_order")
    upgrade(pg.url("template_order"))
    every = list(captures())
    ordered = sorted(every, key=lambda c: (c.source, c.observations[0].observed_at))
    rng = random.Random(16)
    plans = [("sequential", [ordered]), ("reverse", [ordered[::-1]])]
    for i in range(trials):
        shuffled = rng.sample(ordered, len(ordered))
        threads = 1 + i % 3
        plans.append((f"shuffle{i}x{threads}", [shuffled[j::threads] for j in range(threads)]))
    reference = None
    try:
        for n, (name, batches) in enumerate(plans):
            pg.ensure_database(f"o{n}", template="template_order")
            engine = make_engine(pg.url(f"o{n}"))
            ingest_concurrently(engine, batches)
            history = valid_time_history(engine)
            reference = reference or history
            diff = [k for k in reference if reference[k] != history.get(k)]
            diff += [k for k in history if k not in reference]
            believed, open_, superseded = version_counts(engine)
            print(
                f"{name:14} versions {believed:5}  open {open_:5}  superseded kept {superseded:5}"
                f"  same history as sequential: {not diff} ({len(diff)} offerings differ)",
                flush=True,
            )
            if diff and "-v" in sys.argv:
                for k in diff[:3]:
                    print(" ", k, "\n   seq", reference.get(k), "\n   got", history.get(k))
            engine.dispose()
            pg.drop_database(f"o{n}")
    finally:
        pg.stop()


if __name__ == "__main__":
    main(int(next((a for a in sys.argv[1:] if a.isdigit()), "20")))
