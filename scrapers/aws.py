"""AWS EC2 on-demand GPU instance prices (Linux) from the pricing-page documents.

aws.amazon.com/ec2/pricing/on-demand loads one JSON document per Location from
``b0.p.awsstatic.com/pricing/2.0/meteredUnitMaps/ec2/USD/current/
ec2-ondemand-without-sec-sel/{Location}/Linux/index.json``. Its ``regions``
object maps a Location to entries keyed by a label, each with "Instance Type",
"price" (USD per instance-hour, a string) and "Operating System".

Accepted recordings: one such document (``{"regions": {...}}``) or several
keyed by Location (``{Location: {"regions": {...}}}``), which ``fetch`` writes.
Entries are kept only for instance types in the reviewed ``INSTANCE_GPUS``
table; the region is the AWS region code for the Location.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from scrapers._gpu_common import Skips, per_gpu, positive_price
from scrapers.base import GpuRate, ParseError, SourceInfo, load_json
from scrapers.http import request_bytes

URL = "https://aws.amazon.com/ec2/pricing/on-demand/"
DOC_URL = (
    "https://b0.p.awsstatic.com/pricing/2.0/meteredUnitMaps/ec2/USD/current/"
    "ec2-ondemand-without-sec-sel/{location}/Linux/index.json"
)
SOURCE = SourceInfo(
    slug="aws",
    kind="gpu_rate",
    url=URL,
    # fetch reads every Location in LOCATIONS; a tracked instance type missing
    # from a later snapshot has been withdrawn there.
    listing_complete=True,
    description="AWS EC2 on-demand Linux prices of GPU instance types, per region",
)

# instance type -> (canonical GPU, GPUs per instance), from the instance-type pages:
_P5 = "https://aws.amazon.com/ec2/instance-types/p5/"  # p5 H100, p5e/p5en H200
_P4 = "https://aws.amazon.com/ec2/instance-types/p4/"  # p4d A100 40 GB, p4de 80 GB
_P6 = "https://aws.amazon.com/ec2/instance-types/p6/"  # p6-b200, p6-b300
_G6E = "https://aws.amazon.com/ec2/instance-types/g6e/"  # L40S
INSTANCE_GPUS: dict[str, tuple[str, int]] = {
    "p5.48xlarge": ("H100-SXM-80GB", 8),  # _P5
    "p5.4xlarge": ("H100-SXM-80GB", 1),  # _P5
    "p5e.48xlarge": ("H200-SXM-141GB", 8),  # _P5
    "p5en.48xlarge": ("H200-SXM-141GB", 8),  # _P5
    "p4d.24xlarge": ("A100-SXM-40GB", 8),  # _P4
    "p4de.24xlarge": ("A100-SXM-80GB", 8),  # _P4
    "p6-b200.48xlarge": ("B200-SXM-180GB", 8),  # _P6
    "p6-b300.48xlarge": ("B300-SXM-288GB", 8),  # _P6
    "g6e.xlarge": ("L40S-48GB", 1),  # _G6E
    "g6e.2xlarge": ("L40S-48GB", 1),  # _G6E
    "g6e.4xlarge": ("L40S-48GB", 1),  # _G6E
    "g6e.8xlarge": ("L40S-48GB", 1),  # _G6E
    "g6e.16xlarge": ("L40S-48GB", 1),  # _G6E
    "g6e.12xlarge": ("L40S-48GB", 4),  # _G6E
    "g6e.24xlarge": ("L40S-48GB", 4),  # _G6E
    "g6e.48xlarge": ("L40S-48GB", 8),  # _G6E
}

# Location (as the documents name it) -> region code.
# https://docs.aws.amazon.com/general/latest/gr/rande.html
LOCATIONS: dict[str, str] = {
    "US East (N. Virginia)": "us-east-1",
    "US East (Ohio)": "us-east-2",
    "US West (N. California)": "us-west-1",
    "US West (Oregon)": "us-west-2",
    "Canada (Central)": "ca-central-1",
    "South America (Sao Paulo)": "sa-east-1",
    "EU (Ireland)": "eu-west-1",
    "EU (London)": "eu-west-2",
    "EU (Paris)": "eu-west-3",
    "EU (Frankfurt)": "eu-central-1",
    "EU (Stockholm)": "eu-north-1",
    "EU (Spain)": "eu-south-2",
    "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Asia Pacific (Seoul)": "ap-northeast-2",
    "Asia Pacific (Osaka)": "ap-northeast-3",
    "Asia Pacific (Singapore)": "ap-southeast-1",
    "Asia Pacific (Sydney)": "ap-southeast-2",
    "Asia Pacific (Jakarta)": "ap-southeast-3",
    "Asia Pacific (Mumbai)": "ap-south-1",
    "Asia Pacific (Hyderabad)": "ap-south-2",
    "Middle East (UAE)": "me-central-1",
    "AWS GovCloud (US-West)": "us-gov-west-1",
    "AWS GovCloud (US-East)": "us-gov-east-1",
}


def fetch(client: httpx.Client) -> bytes:
    docs = {}
    for location in LOCATIONS:
        url = DOC_URL.format(location=quote(location, safe="()"))
        docs[location] = json.loads(request_bytes(client, url))
    return json.dumps(docs).encode()


def _documents(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("regions"), dict):
        return [doc["regions"]]
    if (
        isinstance(doc, dict)
        and doc
        and all(isinstance(v, dict) and isinstance(v.get("regions"), dict) for v in doc.values())
    ):
        return [v["regions"] for v in doc.values()]
    raise ParseError(
        "aws", "expected a price document {'regions': {...}} or documents keyed by Location"
    )


def parse(raw: bytes, *, observed_at: datetime) -> list[GpuRate]:
    skips, out, seen = Skips("aws"), [], set()
    for regions in _documents(load_json("aws", raw)):
        for location, entries in regions.items():
            if not isinstance(entries, dict):
                raise ParseError("aws", f"{location}: expected entries keyed by label")
            region = LOCATIONS.get(location)
            if region is None:
                skips.add("Location without a region code in LOCATIONS", location)
                continue
            for entry in entries.values():
                rate = _rate(entry, region, skips, observed_at)
                if rate is None:
                    continue
                if rate.offering_key() in seen:
                    skips.add("second entry for the same instance type and region", location)
                    continue
                seen.add(rate.offering_key())
                out.append(rate)
    return skips.done(out)


def _rate(entry: Any, region: str, skips: Skips, observed_at: datetime) -> GpuRate | None:
    if not isinstance(entry, dict) or "Instance Type" not in entry or "price" not in entry:
        raise ParseError("aws", f"entry without 'Instance Type'/'price': {str(entry)[:120]}")
    instance = entry["Instance Type"]
    if instance not in INSTANCE_GPUS:
        skips.add("instance type not in INSTANCE_GPUS", instance)
        return None
    if entry.get("Operating System", "Linux") != "Linux" or entry.get(
        "Pre Installed S/W", "NA"
    ) not in ("NA", ""):
        skips.add("not plain Linux", instance)
        return None
    price = positive_price(entry["price"])
    if price is None:
        skips.add("zero price", instance)
        return None
    gpu, count = INSTANCE_GPUS[instance]
    return GpuRate(
        source="aws",
        provider="aws",
        gpu=gpu,
        gpu_count=count,
        pricing="on_demand",
        usd_per_gpu_hour=per_gpu(price, count),
        usd_per_instance_hour=price,
        region=region,
        instance_type=instance,
        os="linux",
        observed_at=observed_at,
        source_url=URL,
    )
