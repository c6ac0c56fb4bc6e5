"""Kubernetes resource quantities ("500m", "4Gi", "1.5", "2e3") as exact numbers.

The grammar is the API server's (k8s.io/apimachinery resource.Quantity): a decimal number, then
a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m "" k M G T P E) or an exponent
(e3, E-2). Values are Fractions so that "1Gi" > "1G" and "0.5" == "500m" compare exactly.
"""

from __future__ import annotations

import re
from fractions import Fraction

_BINARY: dict[str, int] = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL: dict[str, Fraction | int] = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
}
_QUANTITY = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:(?P<exp>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)"
)


def parse(value) -> Fraction:
    """The quantity as a number; ValueError when it is not one the API server accepts.

    YAML gives ints and floats for unquoted numbers (``cpu: 2``); they are quantities too.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    text = str(value).strip() if isinstance(value, str) else None
    match = _QUANTITY.fullmatch(text or "")
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 4Gi)")
    number = Fraction(match["number"])
    if match["exp"]:
        number *= Fraction(10) ** int(match["exp"][1:])
    else:
        suffix = match["suffix"] or ""
        number *= _BINARY.get(suffix) or _DECIMAL[suffix]
    return -number if match["sign"] == "-" else number


def is_quantity(value) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True
