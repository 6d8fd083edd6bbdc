"""JSON (and CSV text) for every layer: a Decimal is written as a JSON number, exactly.

Money is ``Decimal`` from the page to the database and back, so a response must
not round it through a binary float (``15.000020000000002``) nor turn it into a
string. The standard library cannot emit a raw number token, so each Decimal is
first replaced by a string token carrying its digits behind a per-process random
marker, the document is encoded by the fast C encoder, and the quoted tokens are
then unquoted. The marker starts with a NUL character, which the encoder always
escapes, so no stored text can forge a token.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

_MARK = "\x00" + secrets.token_hex(8) + ":"
# How the encoder writes the marker inside a JSON string: \u0000 then the hex.
_TOKEN = re.compile(r'"\\u0000' + _MARK[1:] + r'(-?[0-9.]+)"')


def decimal_text(value: Decimal) -> str:
    """The exact digits of ``value`` in plain notation: 15, 0.0000001, -2.5 (never 1E+1)."""
    if not value.is_finite():
        raise ValueError(f"money must be finite, got {value}")
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def plain(value: Any) -> Any:
    """JSON-ready builtins; Decimals become their exact digits as text (for CSV and feeds)."""
    return _convert(value, decimal_text)


def dumps(value: Any) -> str:
    """Encode ``value`` as JSON; every Decimal is an exact JSON number."""
    encoded = json.dumps(_convert(value, _token), ensure_ascii=False, default=str)
    return _TOKEN.sub(r"\1", encoded)


def _token(value: Decimal) -> str:
    return _MARK + decimal_text(value)


def _convert(value: Any, decimal: Any) -> Any:
    if isinstance(value, BaseModel):
        return _convert(value.model_dump(), decimal)
    if isinstance(value, dict):
        return {k: _convert(v, decimal) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_convert(v, decimal) for v in value]
    if isinstance(value, Decimal):
        return decimal(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value
