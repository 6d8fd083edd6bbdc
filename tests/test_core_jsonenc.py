"""Money in JSON: exact numbers from the stored Decimal, never float noise, never a string."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from costcurve.core.jsonenc import decimal_text, dumps, plain


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("15.000020000000002"), "15.000020000000002"),
        (Decimal("1E+1"), "10"),
        (Decimal("0.0000001"), "0.0000001"),
        (Decimal("2.500"), "2.5"),
        (Decimal("-0.00"), "0"),
        (Decimal("123456789012345678.123456789"), "123456789012345678.123456789"),
    ],
)
def test_a_decimal_is_written_as_its_exact_digits_as_a_json_number(
    value: Decimal, text: str
) -> None:
    encoded = dumps({"usd_per_mtok": value})
    assert encoded == '{"usd_per_mtok": ' + text + "}"
    assert json.loads(encoded, parse_float=Decimal)["usd_per_mtok"] == value
    assert decimal_text(value) == text


def test_nested_decimals_in_lists_and_models_are_numbers() -> None:
    doc = json.loads(dumps({"items": [{"p": Decimal("0.1")}, (Decimal("3"), None)]}))
    assert doc == {"items": [{"p": 0.1}, [3, None]]}


def test_text_that_looks_like_a_token_stays_text() -> None:
    forged = "\x00deadbeefdeadbeef:12.5"
    assert json.loads(dumps({"name": forged})) == {"name": forged}


def test_a_non_finite_decimal_is_refused_rather_than_written() -> None:
    with pytest.raises(ValueError, match="finite"):
        dumps({"usd": Decimal("NaN")})


def test_plain_gives_csv_the_same_digits_as_json() -> None:
    assert plain({"usd": Decimal("9.99999000")}) == {"usd": "9.99999"}
