"""Money values before they reach a database: the canonical form stored, and the deliberate rounding of
reference figures (arrival mids) to the stored grid of 18 decimal places."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from botnft.storage import StorageError, check_money, round_money


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("1091.239449293", "1091.239449293"),
        ("1.50", "1.50"),
        ("1E+3", "1000"),
        ("-0.000", "0.000"),
        ("2.50000000000000000000000", "2.500000000000000000"),
        ("99999999999999999999.999999999999999999", "99999999999999999999.999999999999999999"),
    ],
)
def test_money_is_kept_digit_for_digit_in_a_canonical_form_equal_to_the_value(
    given: str, stored: str
) -> None:
    checked = check_money(Decimal(given))

    assert str(checked) == stored
    assert checked == Decimal(given)


@pytest.mark.parametrize(
    ("given", "rounded"),
    [
        ("215.61", "215.61"),  # on the grid already: left as it is, not padded to 18 places
        ("1.0000000000000000005", "1.000000000000000000"),  # half-even: the tie goes to the even 0
        ("1.0000000000000000015", "1.000000000000000002"),  # ... and to the even 2
        ("-0.0000000000000000004", "0E-18"),
    ],
)
def test_a_reference_price_is_rounded_half_even_to_18_places_only_where_it_has_more(
    given: str, rounded: str
) -> None:
    assert str(round_money(Decimal(given))) == rounded


def test_a_quotient_mid_is_rounded_to_the_grid_whatever_the_callers_precision() -> None:
    with localcontext() as ctx:
        ctx.prec = 50
        third = Decimal(200) / Decimal(3)
    with localcontext() as ctx:
        ctx.prec = 6  # a narrow caller context must not change what is stored
        assert str(round_money(third)) == "66.666666666666666667"


def test_rounding_never_hides_a_value_out_of_range_or_not_a_number() -> None:
    with pytest.raises(StorageError, match="more than 20 integer digits"):
        round_money(Decimal("1E+20"), "arrival price")
    with pytest.raises(StorageError, match="arrival price NaN is not a finite number"):
        round_money(Decimal("NaN"), "arrival price")
