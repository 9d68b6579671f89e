"""Exact amount handling: no floating point ever touches money.

``parse_amount`` accepts what Sigil's policy language and MCP tools accept:
an ``int`` (wei), a decimal string of wei, a ``0x`` hex string, or a number
with a unit (``"0.05 ether"``, ``"30 gwei"``). ``float`` is refused.
"""

from __future__ import annotations

from typing import Union

_UNITS = {
    "wei": 0,
    "kwei": 3,
    "mwei": 6,
    "gwei": 9,
    "szabo": 12,
    "finney": 15,
    "ether": 18,
}

MAX_UINT256 = (1 << 256) - 1

Amount = Union[int, str]


def parse_amount(value: Amount, allow_units: bool = True) -> int:
    """Wei as an exact ``int``. Raises ``ValueError`` for floats, negatives,
    fractions finer than one wei, values above 2**256-1 and malformed text."""
    if isinstance(value, bool):
        raise ValueError("an amount cannot be a boolean")
    if isinstance(value, float):
        raise ValueError("floating-point amounts are refused; use an int or a string such as \"0.05 ether\"")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str):
        text = value.strip()
        if text.lower().startswith("0x"):
            result = int(text, 16)
        else:
            parts = text.split()
            if len(parts) == 1 and parts[0].isdigit():
                result = int(parts[0])
            elif len(parts) == 2 and allow_units and parts[1].lower() in _UNITS:
                result = _scaled(parts[0], _UNITS[parts[1].lower()])
            else:
                raise ValueError(f"not an amount: {value!r} (use wei, 0x-hex, or e.g. \"0.05 ether\")")
    else:
        raise ValueError(f"not an amount: {value!r}")
    if result < 0 or result > MAX_UINT256:
        raise ValueError(f"amount out of range: {value!r}")
    return result


def _scaled(number: str, decimals: int) -> int:
    whole, _, frac = number.partition(".")
    if not whole:
        whole = "0"
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"not a decimal number: {number!r}")
    frac = frac.rstrip("0")
    if len(frac) > decimals:
        raise ValueError(f"{number!r} has more decimal places than the unit allows")
    return int(whole) * 10**decimals + (int(frac) * 10 ** (decimals - len(frac)) if frac else 0)


def to_quantity(value: Amount, allow_units: bool = True) -> str:
    """An Ethereum JSON-RPC quantity: ``"0x"`` + minimal hex."""
    return hex(parse_amount(value, allow_units))


def format_units(value: int, decimals: int) -> str:
    """``value / 10**decimals`` as an exact decimal string, trailing zeros trimmed."""
    digits = str(value).rjust(decimals + 1, "0")
    whole, frac = digits[: len(digits) - decimals], digits[len(digits) - decimals:].rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def format_wei(wei: int) -> str:
    """Wei in the unit a person would use: ``"0.1 ether"``, ``"30 gwei"``, ``"12 wei"``."""
    if wei == 0:
        return "0 ether"
    if wei >= 10**12:
        return format_units(wei, 18) + " ether"
    if wei >= 10**9:
        return format_units(wei, 9) + " gwei"
    return f"{wei} wei"
