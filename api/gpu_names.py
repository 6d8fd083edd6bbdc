"""The ``gpu`` query parameter of every route: aliases in, canonical name out, or a 422.

All routes resolve through :func:`costcurve.catalog.gpus.resolve_gpu`, so
``h100-sxm-80gb``, ``H100 SXM`` and ``H100-SXM-80GB`` mean the same GPU
everywhere, and a name that is ambiguous (``H100``) or unknown is a 422 that
lists the choices, never an empty 200.
"""

from __future__ import annotations

from fastapi import HTTPException

from costcurve.catalog.gpus import GpuNameError, resolve_gpu


def gpu_param(value: str, parameter: str = "gpu") -> str:
    try:
        return resolve_gpu(value)
    except GpuNameError as exc:
        raise HTTPException(422, detail=f"{parameter}: {exc}") from None


def optional_gpu_param(value: str | None, parameter: str = "gpu") -> str | None:
    return None if value is None else gpu_param(value, parameter)
