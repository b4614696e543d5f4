from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.core.money import CurrencyField, MoneyField, to_money, validate_currency


@pytest.mark.parametrize(
    "value, expected",
    [
        ("10", Decimal("10.00")),
        ("0.005", Decimal("0.01")),  # half-up, not banker's rounding
        ("-0.005", Decimal("-0.01")),
        (Decimal("1.234"), Decimal("1.23")),
        (7, Decimal("7.00")),
        (" 12.50 ", Decimal("12.50")),
        ("999999999999.99", Decimal("999999999999.99")),
    ],
)
def test_to_money_rounds_half_up_to_cents(value, expected):
    assert to_money(value) == expected


def test_floats_are_refused():
    with pytest.raises(TypeError, match="must not be a float"):
        to_money(0.1)


@pytest.mark.parametrize("value", ["abc", "", "NaN", "Infinity", True, "1000000000000.00"])
def test_non_amounts_are_refused_with_a_message(value):
    with pytest.raises(ValidationError):
        to_money(value)


def test_money_and_currency_fields():
    amount, currency = MoneyField(), CurrencyField()
    assert (amount.max_digits, amount.decimal_places) == (14, 2)
    assert currency.max_length == 3
    validate_currency("EUR")
    with pytest.raises(ValidationError, match="three-letter"):
        validate_currency("euro")
    with pytest.raises(ValidationError, match="not a supported currency"):
        validate_currency("XXX")
