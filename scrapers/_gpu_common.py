"""Helpers shared by the GPU rental sources: price reading, GPU naming, skip counts."""

from __future__ import annotations

import logging
from collections import Counter
from decimal import Decimal
from typing import Any

from costcurve.catalog.gpus import canonical_gpu
from costcurve.core.formulas import usd_per_gpu_hour
from scrapers.base import GpuRate, ParseError, to_decimal


def positive_price(value: Any) -> Decimal | None:
    """A listed price, or None where the source writes null/0 for "not offered".

    Floats go through ``str`` first so binary noise never reaches the Decimal.
    """
    if value is None or isinstance(value, bool):
        return None
    price = to_decimal(str(value))
    return price if price > 0 else None


def per_gpu(instance_price: Decimal, gpu_count: int) -> Decimal:
    return usd_per_gpu_hour(instance_price, gpu_count)


class Skips:
    """Counts offers a parser leaves out, by reason, and logs one summary line.

    Skipping is deliberate (an unknown GPU, a MIG slice, a Windows meter we do
    not keep); counting makes it visible instead of silent.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.reasons: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, reason: str, example: str = "") -> None:
        self.reasons[reason] += 1
        self.examples.setdefault(reason, example)

    def gpu(self, name: str, memory_gb: int | None = None, form: str | None = None) -> str | None:
        gpu = canonical_gpu(name, memory_gb, form)
        if gpu is None:
            self.add("GPU not in catalog.gpus.KNOWN_GPUS", f"{name} ({memory_gb} GB)")
        return gpu

    def summary(self) -> str:
        return ", ".join(
            f"{count} x {reason} (e.g. {self.examples[reason]})"
            for reason, count in self.reasons.most_common()
        )

    def done(self, rates: list[GpuRate]) -> list[GpuRate]:
        """Log what was skipped; a snapshot left with no rate at all is a ParseError."""
        if self.reasons:
            logging.getLogger(f"scrapers.{self.source}").info("skipped %s", self.summary())
        if not rates:
            skipped = f"; skipped {self.summary()}" if self.reasons else ""
            raise ParseError(self.source, f"no GPU rates found{skipped}")
        return rates
