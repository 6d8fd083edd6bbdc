"""The one GPU-name resolver behind every ``gpu`` parameter."""

from __future__ import annotations

import pytest

from costcurve.catalog.gpus import KNOWN_GPUS, GpuNameError, gpu_aliases, resolve_gpu


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("H100-SXM-80GB", "H100-SXM-80GB"),
        ("h100-sxm-80gb", "H100-SXM-80GB"),
        ("H100 SXM", "H100-SXM-80GB"),
        ("h100 sxm5", "H100-SXM-80GB"),
        ("H100_PCIE", "H100-PCIE-80GB"),
        ("H200", "H200-SXM-141GB"),  # the documented default form factor
        ("gb200", "GB200-186GB"),
        ("a100 sxm 40gb", "A100-SXM-40GB"),
    ],
)
def test_aliases_resolve_case_insensitively(name: str, canonical: str) -> None:
    assert resolve_gpu(name) == canonical


@pytest.mark.parametrize(
    ("name", "variants"),
    [
        ("h100", {"H100-SXM-80GB", "H100-PCIE-80GB", "H100-NVL-94GB"}),
        ("A100 80GB", {"A100-SXM-80GB", "A100-PCIE-80GB"}),
        ("A100 SXM", {"A100-SXM-80GB", "A100-SXM-40GB"}),
    ],
)
def test_a_name_that_leaves_the_variant_open_asks_which(name: str, variants: set[str]) -> None:
    with pytest.raises(GpuNameError, match="say which") as caught:
        resolve_gpu(name)
    assert set(caught.value.choices) == variants


def test_an_unknown_name_lists_close_matches() -> None:
    with pytest.raises(GpuNameError, match="unknown GPU 'H1OO'") as caught:
        resolve_gpu("H1OO")
    assert "H100-SXM-80GB" in caught.value.choices
    with pytest.raises(GpuNameError, match="unknown GPU"):
        resolve_gpu("potato")


def test_every_listed_alias_resolves_back_to_its_gpu() -> None:
    for canonical in KNOWN_GPUS:
        aliases = gpu_aliases(canonical)
        assert canonical.lower() in aliases
        assert all(resolve_gpu(a) == canonical for a in aliases)
    assert "H100 SXM" in gpu_aliases("H100-SXM-80GB")
    assert "H100" not in gpu_aliases("H100-SXM-80GB")
