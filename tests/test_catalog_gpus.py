from __future__ import annotations

import pytest

from costcurve.catalog.gpus import KNOWN_GPUS, canonical_gpu, is_known_gpu


@pytest.mark.parametrize(
    ("name", "memory", "form", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", None, None, "H100-SXM-80GB"),
        ("H100 SXM5", None, None, "H100-SXM-80GB"),
        ("NVIDIA HGX H100", 80, None, "H100-SXM-80GB"),
        ("H100 PCIe", None, None, "H100-PCIE-80GB"),
        ("H100 NVL", None, None, "H100-NVL-94GB"),
        ("H100", 94, None, "H100-NVL-94GB"),
        ("H100", 80, "SXM", "H100-SXM-80GB"),
        ("A100-SXM4-80GB", None, None, "A100-SXM-80GB"),
        ("A100 SXM4", 39, None, "A100-SXM-40GB"),
        ("A100 80GB NVLINK", None, None, "A100-SXM-80GB"),
        ("A100 PCIe 40GB", None, None, "A100-PCIE-40GB"),
        ("NVIDIA A100 80GB PCIe", None, None, "A100-PCIE-80GB"),
        ("H200", None, None, "H200-SXM-141GB"),
        ("NVIDIA H200 NVL", 143, None, "H200-NVL-141GB"),
        ("B200", None, None, "B200-SXM-180GB"),
        ("NVIDIA B200 SXM6", 180, None, "B200-SXM-180GB"),
        ("B300", 269, None, "B300-SXM-288GB"),
        ("GH200", None, None, "GH200-96GB"),
        ("GH200 144GB", None, None, "GH200-144GB"),
        ("AMD Instinct MI300X OAM", 192, None, "MI300X-192GB"),
        ("MI300X", None, None, "MI300X-192GB"),
        ("L40S", None, None, "L40S-48GB"),
        ("NVIDIA L40", 48, None, "L40-48GB"),
        ("L4", None, None, "L4-24GB"),
        ("NVIDIA A10", 24, None, "A10-24GB"),
        ("Tesla T4", None, None, "T4-16GB"),
        ("Tesla V100-SXM2-16GB", 16, None, "V100-SXM-16GB"),
        ("Tesla V100-PCIE-16GB", None, None, "V100-PCIE-16GB"),
        ("RTX 4090", None, None, "RTX4090-24GB"),
        ("NVIDIA GeForce RTX 4090", 24, None, "RTX4090-24GB"),
        ("RTX 5090", None, None, "RTX5090-32GB"),
        ("RTX 4080 SUPER", 16, None, "RTX4080S-16GB"),
        ("RTX 4070S Ti", 16, None, "RTX4070TIS-16GB"),
        ("RTX 4090D", 24, None, "RTX4090D-24GB"),
        ("NVIDIA GeForce RTX 3090 Ti", None, None, "RTX3090TI-24GB"),
        ("A6000", None, None, "RTXA6000-48GB"),
        ("NVIDIA RTX A6000", 48, None, "RTXA6000-48GB"),
        ("RTX 6000Ada", 48, None, "RTX6000ADA-48GB"),
        ("NVIDIA RTX 4000 SFF Ada Generation", 20, None, "RTX4000SFFADA-20GB"),
        ("Quadro RTX 6000", 24, None, "QUADRORTX6000-24GB"),
        ("Q RTX 8000", 48, None, "QUADRORTX8000-48GB"),
        ("RTX PRO 6000 Blackwell", None, None, "RTXPRO6000-96GB"),
        ("NVIDIA RTX PRO 6000 Blackwell Server Edition", 96, None, "RTXPRO6000-96GB"),
        ("RTX PRO 6000 S", 96, None, "RTXPRO6000-96GB"),
        ("RTX PRO 6000 WS", 96, None, "RTXPRO6000-WS-96GB"),
        ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", 96, None, "RTXPRO6000-WS-96GB"),
        (
            "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
            96,
            None,
            "RTXPRO6000-MAXQ-96GB",
        ),
        ("RTX PRO 5000", 72, None, "RTXPRO5000-72GB"),
    ],
)
def test_canonical_gpu_maps_provider_spellings(
    name: str, memory: int | None, form: str | None, expected: str
) -> None:
    assert canonical_gpu(name, memory, form) == expected


@pytest.mark.parametrize(
    ("name", "memory"),
    [
        ("GTX 1080", 8),  # not catalogued
        ("NVIDIA GeForce GTX 1050 Ti", 4),
        ("RTX 3060 laptop", 12),
        ("NVIDIA RTX PRO 6000 Blackwell Server Edition MIG 1g.24gb", 24),
        ("PRO 6000 MIG 48GB", 48),
        ("Titan RTX", 24),
        ("unknown", 0),
        ("", None),
        ("RTX 4090", 48),  # memory-modded board: a different price class
    ],
)
def test_canonical_gpu_returns_none_for_parts_outside_the_catalog(
    name: str, memory: int | None
) -> None:
    assert canonical_gpu(name, memory) is None


@pytest.mark.parametrize(
    ("name", "memory"),
    [("A100", 80), ("A100 SXM", None), ("H100", 80), ("Tesla V100", 32), ("RTX 6000", 24)],
)
def test_canonical_gpu_does_not_guess_between_variants(name: str, memory: int | None) -> None:
    assert canonical_gpu(name, memory) is None


def test_name_wins_over_page_context() -> None:
    assert canonical_gpu("A100 PCIe 40GB", 80, "SXM") == "A100-PCIE-40GB"


def test_every_known_gpu_is_its_own_canonical_name() -> None:
    for canonical, spec in KNOWN_GPUS.items():
        assert canonical_gpu(canonical) == canonical
        assert spec.canonical == canonical
        assert canonical.endswith(f"-{spec.memory_gb}GB")
        assert spec.vendor in {"nvidia", "amd"}
        assert is_known_gpu(canonical)
    assert not is_known_gpu("H100")


def test_known_gpus_cover_the_names_the_brief_requires() -> None:
    required = {
        "H100-SXM-80GB", "H100-PCIE-80GB", "H100-NVL-94GB", "H200-SXM-141GB",
        "B200-SXM-180GB", "A100-SXM-80GB", "A100-SXM-40GB", "A100-PCIE-80GB",
        "A100-PCIE-40GB", "L40S-48GB", "L4-24GB", "MI300X-192GB", "RTX4090-24GB",
        "RTX5090-32GB", "RTXPRO6000-96GB",
    }  # fmt: skip
    assert required <= set(KNOWN_GPUS)
    assert KNOWN_GPUS["MI300X-192GB"].vendor == "amd"
    assert KNOWN_GPUS["H100-NVL-94GB"].form_factor == "NVL"
