"""The shared argument checks: each names the bad value and its allowed range."""

import re

import numpy as np
import pytest

from uim_utils.validate import check_float, check_int


def test_check_int_bounds_and_types() -> None:
    check_int("n", 3, 1, 3)
    check_int("n", np.int64(1), 1, 3)
    check_int("n", 10**9, 1)  # no upper bound
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 3\], got 4"):
        check_int("n", 4, 1, 3)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1, got 0"):
        check_int("n", 0, 1)
    for bad in (True, 2.0, "2", None):
        with pytest.raises(ValueError, match="n must be an integer"):
            check_int("n", bad, 1)


def test_check_float() -> None:
    check_float("rate", 0.5, 0.0, 1.0)
    check_float("rate", 1, 0.0, 1.0)
    for bad in (1.5, -0.1, float("nan"), True, "a"):
        with pytest.raises(ValueError, match="rate must be"):
            check_float("rate", bad, 0.0, 1.0)


@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), float("inf"), True, "1", None])
def test_check_nonnegative_names_the_bad_value(bad):
    from uim_utils.validate import check_nonnegative

    with pytest.raises(ValueError, match=f"w must be a finite number >= 0, got {re.escape(repr(bad))}"):
        check_nonnegative("w", bad)


def test_check_nonnegative_accepts_zero_and_numpy_numbers():
    import numpy as np

    from uim_utils.validate import check_nonnegative

    for ok in (0, 0.0, 2, 1e-3, np.float32(0.5), np.int64(3)):
        check_nonnegative("w", ok)


@pytest.mark.parametrize("bad", ["x", None, True, float("nan"), float("inf")])
def test_finite_float_names_what_is_not_a_finite_number(bad):
    from uim_utils.validate import finite_float

    with pytest.raises(ValueError, match=f"margin must be a finite number, got {re.escape(repr(bad))}"):
        finite_float("margin", bad)
    assert finite_float("margin", 2) == 2.0
