"""Kubernetes quantities parsed as the API server reads them, and compared as numbers."""

from __future__ import annotations

from fractions import Fraction

import pytest

from n2a_gitops import quantity


@pytest.mark.parametrize(
    "text, value",
    [
        ("500m", Fraction(1, 2)),
        ("0.5", Fraction(1, 2)),
        (".5", Fraction(1, 2)),
        ("2", 2),
        (2, 2),
        (0.25, Fraction(1, 4)),
        ("1Ki", 1024),
        ("4Gi", 4 * 2**30),
        ("1G", 10**9),
        ("1k", 1000),
        ("1e3", 1000),
        ("1E-3", Fraction(1, 1000)),
        ("1.5Gi", 3 * 2**29),
        ("128974848", 128974848),
        ("129e6", 129 * 10**6),
        ("123Mi", 123 * 2**20),
        ("100n", Fraction(1, 10**7)),
        ("+1", 1),
        ("-1", -1),
    ],
)
def test_parses_like_the_api_server(text, value):
    assert quantity.parse(text) == value


@pytest.mark.parametrize("text", ["4GB", "4 Gi", "", "Gi", "1.2.3", "1e", "ten", "1Kib", True, None, "1gi"])
def test_refuses_what_the_api_server_refuses(text):
    with pytest.raises(ValueError):
        quantity.parse(text)


def test_compares_numerically_across_suffixes():
    assert quantity.parse("64Gi") > quantity.parse("16Gi") > quantity.parse("16G") > quantity.parse("15000Mi")
    assert quantity.parse("1") == quantity.parse("1000m") and quantity.parse("1001m") > quantity.parse("1")
    assert quantity.parse("16Gi") == quantity.parse("17179869184") == quantity.parse("16384Mi")
