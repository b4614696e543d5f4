"""
Money: ``Decimal`` only, two decimal places, an ISO-4217 currency beside every amount.

``MoneyField()`` and ``CurrencyField()`` are the model fields every app uses; ``to_money``
turns user input into a rounded ``Decimal`` and refuses floats, whose binary fractions would
silently change amounts.
"""

import functools
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

CENT = Decimal("0.01")
MAX_DIGITS = 14
DECIMAL_PLACES = 2

# Active ISO-4217 codes most operations teams meet; a code outside the list is refused.
CURRENCIES = [
    "AED",
    "AUD",
    "BRL",
    "CAD",
    "CHF",
    "CLP",
    "CNY",
    "COP",
    "CZK",
    "DKK",
    "EGP",
    "EUR",
    "GBP",
    "HKD",
    "HUF",
    "IDR",
    "ILS",
    "INR",
    "JPY",
    "KES",
    "KRW",
    "MAD",
    "MXN",
    "MYR",
    "NGN",
    "NOK",
    "NZD",
    "PEN",
    "PHP",
    "PKR",
    "PLN",
    "QAR",
    "RON",
    "SAR",
    "SEK",
    "SGD",
    "THB",
    "TRY",
    "TWD",
    "UAH",
    "USD",
    "VND",
    "ZAR",
]
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]

currency_format = RegexValidator(r"^[A-Z]{3}$", "Currency must be a three-letter ISO-4217 code, e.g. EUR.")


def to_money(value) -> Decimal:
    """Parse an amount to a ``Decimal`` rounded half-up to cents. Floats are refused."""
    if isinstance(value, float):
        raise TypeError("Money must not be a float: pass a Decimal, an int or a string.")
    if isinstance(value, bool):
        raise ValidationError("Amount must be a number.")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"{value!r} is not an amount.") from exc
    if not amount.is_finite():
        raise ValidationError(f"{value!r} is not an amount.")
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount.adjusted() >= MAX_DIGITS - DECIMAL_PLACES:
        raise ValidationError(f"{value!r} is too large: at most {MAX_DIGITS - DECIMAL_PLACES} digits before the point.")
    return amount


@functools.lru_cache(maxsize=256)  # a valid code is remembered (bulk imports check one per row); errors are not
def validate_currency(code: str) -> None:
    currency_format(code)
    if code not in CURRENCIES:
        raise ValidationError(f"{code} is not a supported currency.")


class MoneyField(models.DecimalField):
    """An amount: ``DecimalField(max_digits=14, decimal_places=2)``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)


class CurrencyField(models.CharField):
    """An ISO-4217 currency code."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("choices", CURRENCY_CHOICES)
        kwargs.setdefault("validators", [validate_currency])
        super().__init__(*args, **kwargs)


def parse_amount(value, *, field: str, allow_zero: bool = False) -> Decimal:
    """A positive amount with at most two decimals; anything else is refused, never rounded."""
    if isinstance(value, float):
        raise ValidationError({field: "Give amounts as a decimal string, not a floating-point number."})
    try:
        raw = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{value!r} is not an amount."}) from None
    if not raw.is_finite():
        raise ValidationError({field: f"{value!r} is not an amount."})
    if raw.as_tuple().exponent < -2 and raw != raw.quantize(Decimal("0.01")):
        raise ValidationError({field: "Amounts have at most two decimals."})
    try:
        amount = to_money(raw)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    if amount < 0 and allow_zero:
        raise ValidationError({field: "The amount cannot be negative."})
    if amount <= 0 and not allow_zero:
        raise ValidationError({field: "The amount must be greater than zero."})
    return amount
