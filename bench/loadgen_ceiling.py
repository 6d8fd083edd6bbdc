"""How many tokens/s can benchmarks.loadgen drive? (Is the load generator the bottleneck?)

Starts benchmarks.fake_server with zero TTFT and ITL on 127.0.0.1, so the
server streams as fast as it can, and drives it at concurrency 64, 128 and
256 with a bounded number of requests each. Prints the output tokens/s driven
and, per reference GPU rate, the ratio driven / reference: a ratio well above
1 means the load generator can keep such a GPU busy; below 1 means the
numbers it would report for that GPU are capped by the client, not the GPU.

The fake server shares the machine's CPUs, so the figure is a lower bound on
the client's own ceiling; "client CPU" shows how much of a core the load
generator itself used. Bounded to well under 60 s.

    .venv/bin/python bench/loadgen_ceiling.py [--output-len 256] [--budget-s 45]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from costcurve.benchmarks.fake_server import running_fake_server
from costcurve.benchmarks.loadgen import benchmark_serving
from costcurve.benchmarks.spec import Deployment, SweepSpec, Workload

# Output tokens/s a real run would report and the load generator must sustain:
# Llama-3.1-8B under vLLM on one H100 at high concurrency is of this order.
REFERENCE_RATES = {"Llama-3.1-8B on 1x H100 (vLLM, high concurrency)": 8_000.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--input-len", type=int, default=128)
    parser.add_argument("--output-len", type=int, default=256)
    parser.add_argument("--waves", type=int, default=2, help="requests = waves x concurrency")
    parser.add_argument(
        "--itl-ms",
        type=float,
        default=0.0,
        help="pace tokens like a GPU (0: as fast as the server can; tokens may share a read)",
    )
    parser.add_argument("--budget-s", type=float, default=45.0, help="stop starting new levels")
    parser.add_argument(
        "--reference", type=float, action="append", default=[], help="another GPU rate, tok/s"
    )
    args = parser.parse_args()

    deadline = time.monotonic() + args.budget_s
    rows = []
    with running_fake_server(ttft_ms=0, itl_ms=args.itl_ms) as url:
        for conc in args.concurrency:
            if time.monotonic() > deadline:
                print(f"concurrency {conc}: skipped, time budget of {args.budget_s} s used")
                continue
            cpu0 = time.process_time()
            point = asyncio.run(
                benchmark_serving(
                    SweepSpec(
                        url,
                        "fake-model",
                        Deployment("none", synthetic=True),
                        Workload(
                            args.input_len,
                            args.output_len,
                            range_ratio=1.0,
                            num_prompts=args.waves * conc,
                            num_warmups=conc,
                            timeout_s=max(5.0, deadline - time.monotonic() + 10),
                        ),
                        (conc,),
                    ),
                    conc,
                )
            )
            cpu = time.process_time() - cpu0
            rows.append((conc, point, cpu))

    print(
        f"\nfake server with ITL {args.itl_ms:g} ms, "
        f"input {args.input_len}, output {args.output_len} tokens"
    )
    print("conc  requests  ok    duration_s  output_tok/s  total_tok/s  client_cpu_s  tok/cpu_s")
    for conc, p, cpu in rows:
        print(
            f"{conc:<5} {p.num_prompts:<9} {p.completed:<5} {p.duration:<11.2f} "
            f"{p.output_throughput:<13.0f} {p.total_token_throughput:<12.0f} {cpu:<13.2f} "
            f"{p.total_output_tokens / cpu if cpu else 0:.0f}"
        )
    if not rows:
        return
    best = max(p.output_throughput for _, p, _ in rows)
    print(f"\nload generator drove at most {best:,.0f} output tokens/s on this machine")
    references = REFERENCE_RATES | {f"--reference {r:g}": r for r in args.reference}
    for name, rate in references.items():
        verdict = "can saturate" if best >= rate else "CANNOT saturate"
        print(f"  vs {name}: {rate:,.0f} tok/s -> ratio {best / rate:.2f} ({verdict})")


if __name__ == "__main__":
    main()
