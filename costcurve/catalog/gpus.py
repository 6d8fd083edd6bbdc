"""Canonical GPU names and the mapping from provider spellings to them.

A canonical name keeps what changes the rental price: the model, the form factor
where one model ships in several (SXM vs PCIe vs NVL, RTX PRO 6000 server vs
workstation), and the memory (A100 40 GB vs 80 GB): ``H100-SXM-80GB``,
``A100-PCIE-40GB``, ``L40S-48GB``, ``RTX4090-24GB``.

``KNOWN_GPUS`` is a reviewed table. It covers data-centre, workstation and
recent GeForce cards (the ones rented for AI inference); older or odd parts
(GTX, Pascal Teslas, laptop chips, memory-modded boards, MIG slices) are
deliberately absent. ``canonical_gpu`` returns None for anything it cannot place
in the table without guessing. Parsers then *skip* that offer and count the
reason (see ``scrapers/_gpu_common.py``) rather than keep the provider's raw
name: a raw name would never join across sources and alert rules are validated
against this table, so such a row could only ever be noise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Vendor = Literal["nvidia", "amd"]


@dataclass(frozen=True)
class GpuSpec:
    canonical: str
    vendor: Vendor
    model: str
    memory_gb: int
    # Only set where the model ships in several forms that price differently.
    form_factor: str | None = None
    # Picked when a name leaves several variants open (comments at each entry say why).
    default: bool = False


def _spec(
    canonical: str,
    memory: int,
    form: str | None = None,
    *,
    vendor: Vendor = "nvidia",
    default: bool = False,
) -> GpuSpec:
    model = canonical.rsplit("-", 1)[0]
    if form is not None:
        model = model.removesuffix(f"-{form}")
    return GpuSpec(canonical, vendor, model, memory, form, default)


_SPECS = [
    # Data-centre NVIDIA. Memory is the marketed capacity; providers report a bit
    # less (B200: 179-183 GB, H100 NVL: 94-96 GB), hence the tolerance below.
    _spec("B300-SXM-288GB", 288, "SXM", default=True),
    _spec("B200-SXM-180GB", 180, "SXM", default=True),
    # Grace Blackwell superchip (NVL72 racks): 186 GB HBM3e per GPU, rented per GPU.
    _spec("GB200-186GB", 186),
    # The H200 NVL is always labelled NVL, so a bare "H200" is the SXM part.
    _spec("H200-SXM-141GB", 141, "SXM", default=True),
    _spec("H200-NVL-141GB", 141, "NVL"),
    _spec("H100-SXM-80GB", 80, "SXM"),
    _spec("H100-PCIE-80GB", 80, "PCIE"),
    _spec("H100-NVL-94GB", 94, "NVL"),
    # The 144 GB HBM3e GH200 is always labelled with its memory; the 96 GB HBM3
    # part is the original one.
    _spec("GH200-96GB", 96, default=True),
    _spec("GH200-144GB", 144),
    _spec("A100-SXM-80GB", 80, "SXM"),
    _spec("A100-SXM-40GB", 40, "SXM"),
    _spec("A100-PCIE-80GB", 80, "PCIE"),
    _spec("A100-PCIE-40GB", 40, "PCIE"),
    _spec("A800-PCIE-80GB", 80, "PCIE"),
    _spec("L40S-48GB", 48),
    _spec("L40-48GB", 48),
    _spec("L4-24GB", 24),
    _spec("A40-48GB", 48),
    _spec("A30-24GB", 24),
    _spec("A10-24GB", 24),
    _spec("A10G-24GB", 24),
    _spec("T4-16GB", 16),
    _spec("V100-SXM-16GB", 16, "SXM"),
    _spec("V100-SXM-32GB", 32, "SXM"),
    _spec("V100-PCIE-16GB", 16, "PCIE"),
    _spec("V100-PCIE-32GB", 32, "PCIE"),
    # AMD Instinct (OAM only, so no form factor in the name).
    _spec("MI300X-192GB", 192, vendor="amd"),
    _spec("MI325X-256GB", 256, vendor="amd"),
    _spec("MI355X-288GB", 288, vendor="amd"),
    # Workstation / server Blackwell. The server edition is what clouds rack.
    _spec("RTXPRO6000-96GB", 96, "SERVER", default=True),
    _spec("RTXPRO6000-WS-96GB", 96, "WS"),
    _spec("RTXPRO6000-MAXQ-96GB", 96, "MAXQ"),
    _spec("RTXPRO5000-48GB", 48),
    _spec("RTXPRO5000-72GB", 72),
    _spec("RTXPRO4500-32GB", 32),
    _spec("RTXPRO4000-24GB", 24),
    _spec("RTXPRO2000-16GB", 16),
    # Ada and Ampere workstation cards.
    _spec("RTX6000ADA-48GB", 48),
    _spec("RTX5880ADA-48GB", 48),
    _spec("RTX5000ADA-32GB", 32),
    _spec("RTX4500ADA-24GB", 24),
    _spec("RTX4000ADA-20GB", 20),
    _spec("RTX4000SFFADA-20GB", 20),
    _spec("RTX2000ADA-16GB", 16),
    _spec("RTXA6000-48GB", 48),
    _spec("RTXA5000-24GB", 24),
    _spec("RTXA4500-20GB", 20),
    _spec("RTXA4000-16GB", 16),
    _spec("RTXA2000-6GB", 6),
    _spec("RTXA2000-12GB", 12),
    _spec("QUADRORTX8000-48GB", 48),
    _spec("QUADRORTX6000-24GB", 24),
    _spec("QUADRORTX5000-16GB", 16),
    _spec("QUADRORTX4000-8GB", 8),
    # GeForce (suffixes: TI, S = SUPER, D = China-market 4090D).
    _spec("RTX5090-32GB", 32),
    _spec("RTX5080-16GB", 16),
    _spec("RTX5070TI-16GB", 16),
    _spec("RTX5070-12GB", 12),
    _spec("RTX5060TI-16GB", 16),
    _spec("RTX5060TI-8GB", 8),
    _spec("RTX5060-8GB", 8),
    _spec("RTX4090-24GB", 24),
    _spec("RTX4090D-24GB", 24),
    _spec("RTX4080S-16GB", 16),
    _spec("RTX4080-16GB", 16),
    _spec("RTX4070TIS-16GB", 16),
    _spec("RTX4070TI-12GB", 12),
    _spec("RTX4070S-12GB", 12),
    _spec("RTX4070-12GB", 12),
    _spec("RTX4060TI-16GB", 16),
    _spec("RTX4060TI-8GB", 8),
    _spec("RTX4060-8GB", 8),
    _spec("RTX3090TI-24GB", 24),
    _spec("RTX3090-24GB", 24),
    _spec("RTX3080TI-12GB", 12),
    _spec("RTX3080-10GB", 10),
    _spec("RTX3080-12GB", 12),
    _spec("RTX3070TI-8GB", 8),
    _spec("RTX3070-8GB", 8),
    _spec("RTX3060TI-8GB", 8),
    _spec("RTX3060-12GB", 12),
]

KNOWN_GPUS: dict[str, GpuSpec] = {s.canonical: s for s in _SPECS}
_BY_MODEL: dict[str, list[GpuSpec]] = {}
for _s in _SPECS:
    _BY_MODEL.setdefault(_s.model, []).append(_s)

# A provider-reported memory within this fraction of the marketed size is that
# size (providers report GiB, usable memory or MiB / 1024 rounded).
MEMORY_TOLERANCE = 0.10

_FORMS = {
    "SXM": "SXM",
    "SXM2": "SXM",
    "SXM4": "SXM",
    "SXM5": "SXM",
    "SXM6": "SXM",
    "HGX": "SXM",
    "NVLINK": "SXM",
    "PCIE": "PCIE",
    "PCI": "PCIE",
    "NVL": "NVL",
    "OAM": None,
    "SERVER": "SERVER",
    "WORKSTATION": "WS",
    "WS": "WS",
    "WK": "WS",
    "MAXQ": "MAXQ",
}
# Data-centre model numbers, most specific first (GH200 before H200, L40S before L40).
_DATACENTER = [
    "GB200",
    "GH200",
    "B300",
    "B200",
    "H200",
    "H100",
    "A100",
    "A800",
    "L40S",
    "L40",
    "L4",
    "A40",
    "A30",
    "A10G",
    "A10",
    "T4",
    "V100",
    "MI355X",
    "MI325X",
    "MI300X",
]
_DATACENTER_RE = re.compile(r"\b(" + "|".join(_DATACENTER) + r")\b")
# Slices and parts that are not a rentable whole GPU of a known kind.
_REJECT_RE = re.compile(r"\b(MIG|LAPTOP|MOBILE|GTX|TITAN)\b")
_RTX_RE = re.compile(r"\b(QUADRO ?|Q )?RTX ?(PRO ?)?(A ?)?(\d{4})(.*)$")
_BARE_A_RE = re.compile(r"\bA(2000|4000|4500|5000|6000)\b")


def _normalise(name: str) -> str:
    text = name.upper().replace("MAX-Q", "MAXQ").replace("MAX Q", "MAXQ")
    text = re.sub(r"[-_/,()]+", " ", text)
    # Canonical names and vast.ai glue suffixes on: "RTX6000ADA", "RTX4000SFFADA".
    text = re.sub(r"(\d)(SFF|ADA)", r"\1 \2", text).replace("SFFADA", "SFF ADA")
    return re.sub(r"\s+", " ", text).strip()


def _model_and_forms(text: str) -> tuple[str | None, set[str]]:
    tokens = set(text.split())
    forms = {f for t in tokens if (f := _FORMS.get(t))}
    if "HBM3" in tokens and "H100" in tokens:
        forms.add("SXM")  # only the SXM H100 has HBM3; PCIe has HBM2e, NVL HBM3 94 GB
    if m := _RTX_RE.search(text):
        quadro, pro, a_series, number, rest = m.groups()
        rest_tokens = rest.split()
        if quadro:
            return f"QUADRORTX{number}", set()
        if pro:
            if "S" in rest_tokens:
                forms.add("SERVER")  # vast.ai writes "RTX PRO 6000 S" / "WS"
            if "MAXQ" in forms:
                forms = {"MAXQ"}  # "Max-Q Workstation Edition" is the Max-Q card
            return f"RTXPRO{number}", forms
        if a_series:
            return f"RTXA{number}", set()
        if "ADA" in rest_tokens or "ADA" in tokens:
            sff = "SFF" if "SFF" in tokens else ""
            return f"RTX{number}{sff}ADA", set()
        return _geforce(number, rest), set()
    if m := _BARE_A_RE.search(text):
        return f"RTXA{m[1]}", set()
    if m := _DATACENTER_RE.search(text):
        return m[1], forms
    return None, forms


def _geforce(number: str, rest: str) -> str:
    # "4070S Ti", "4070 Ti SUPER", "4090D", "4080 SUPER", "4070TIS" all end up as
    # suffix flags; only letters right after the number count ("GENERATION" has a TI).
    m = re.match(r"((?:\s*(?:TI|SUPER|S|D))*)(?=\s|$)", rest)
    flags = set(re.findall(r"TI|SUPER|S|D", m[1])) if m else set()
    suffix = (
        ("TI" if "TI" in flags else "")
        + ("S" if flags & {"S", "SUPER"} else "")
        + ("D" if "D" in flags else "")
    )
    return f"RTX{number}{suffix}"


def _memory_from_name(text: str) -> int | None:
    m = re.search(r"\b(\d{1,3}) ?GB\b", text)
    return int(m[1]) if m else None


def canonical_gpu(
    name: str, memory_gb: int | None = None, form_factor: str | None = None
) -> str | None:
    """The canonical name for a provider's GPU spelling, or None when not certain.

    ``memory_gb`` and ``form_factor`` come from elsewhere on the page (a VRAM
    column, a table of instance types); what the name itself says wins.
    """
    text = _normalise(name)
    if not text or _REJECT_RE.search(text):
        return None
    model, forms = _model_and_forms(text)
    if model is None or model not in _BY_MODEL:
        return None
    candidates = _BY_MODEL[model]
    if form_factor and not forms:
        forms = {f for t in _normalise(form_factor).split() if (f := _FORMS.get(t))}
    if any(c.form_factor for c in candidates) and len(forms) == 1:
        (form,) = forms
        candidates = [c for c in candidates if c.form_factor == form]
    memory = _memory_from_name(text) or memory_gb
    if memory:
        candidates = [
            c for c in candidates if abs(memory - c.memory_gb) <= MEMORY_TOLERANCE * c.memory_gb
        ]
    if len(candidates) == 1:
        return candidates[0].canonical
    defaults = [c for c in candidates if c.default]
    return defaults[0].canonical if len(defaults) == 1 else None


def is_known_gpu(canonical: str) -> bool:
    return canonical in KNOWN_GPUS


def variants_of(name: str) -> list[str]:
    """The canonical GPUs a name could mean (several: it leaves the form or memory open)."""
    text = _normalise(name)
    if not text or _REJECT_RE.search(text):
        return []
    model, forms = _model_and_forms(text)
    candidates = _BY_MODEL.get(model or "", [])
    if len(forms) == 1:
        candidates = [c for c in candidates if c.form_factor in forms] or candidates
    memory = _memory_from_name(text)
    if memory:
        candidates = [
            c for c in candidates if abs(memory - c.memory_gb) <= MEMORY_TOLERANCE * c.memory_gb
        ]
    return [c.canonical for c in candidates]


# --- user-facing names: the one resolver every ``gpu`` parameter uses ---------------------


class GpuNameError(ValueError):
    """A GPU name that does not resolve to exactly one canonical GPU.

    ``choices`` are the canonical names to pick from: the variants an ambiguous
    name leaves open, or the closest known names to an unknown one.
    """

    def __init__(self, name: str, message: str, choices: list[str]) -> None:
        self.name = name
        self.choices = choices
        super().__init__(message)


def resolve_gpu(name: str) -> str:
    """The canonical GPU a user means by ``name``, case-insensitively.

    Accepted: the canonical name in any case (``h100-sxm-80gb``), and any spelling
    :func:`canonical_gpu` places without guessing (``H100 SXM``, ``H100 SXM5``,
    ``A100 PCIe 40GB``, ``H200`` -> the documented default ``H200-SXM-141GB``).
    A name that leaves several variants open (``H100``: SXM, PCIe or NVL) raises
    :class:`GpuNameError` listing them; an unknown name raises it with the
    closest known names.
    """
    text = name.strip()
    by_upper = {c.upper(): c for c in KNOWN_GPUS}
    if text.upper() in by_upper:
        return by_upper[text.upper()]
    found = canonical_gpu(text)
    if found is not None:
        return found
    variants = variants_of(text)
    if len(variants) > 1:
        raise GpuNameError(
            name,
            f"{name!r} could mean {', '.join(variants)}; say which (e.g. {variants[0]!r})",
            variants,
        )
    close = close_gpu_names(text)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise GpuNameError(name, f"unknown GPU {name!r}{hint} (GET /v1/gpus lists them)", close)


def close_gpu_names(name: str, limit: int = 5) -> list[str]:
    """Known canonical names closest to ``name`` (by spelling, ignoring case and dashes)."""
    import difflib

    def key(s: str) -> str:
        return re.sub(r"[^A-Z0-9]", "", s.upper())

    keyed: dict[str, list[str]] = {}
    for spec in KNOWN_GPUS.values():
        for k in (key(spec.canonical), key(spec.model)):
            keyed.setdefault(k, []).append(spec.canonical)
    wanted = key(name)
    hits = difflib.get_close_matches(wanted, list(keyed), n=limit, cutoff=0.5)
    ordered = [c for h in hits for c in keyed[h]]
    return list(dict.fromkeys(ordered))[:limit]


def gpu_aliases(canonical: str) -> list[str]:
    """Spellings that resolve to ``canonical`` (checked through :func:`resolve_gpu`)."""
    spec = KNOWN_GPUS[canonical]
    model = spec.model
    candidates = [canonical.lower(), canonical.replace("-", " ")]
    if spec.form_factor:
        candidates += [f"{model} {spec.form_factor}", f"{model}-{spec.form_factor}"]
        candidates.append(f"{model} {spec.form_factor} {spec.memory_gb}GB")
    candidates += [f"{model} {spec.memory_gb}GB", model]
    out = []
    for alias in candidates:
        try:
            if resolve_gpu(alias) == canonical and alias != canonical:
                out.append(alias)
        except GpuNameError:
            continue
    return list(dict.fromkeys(out))
