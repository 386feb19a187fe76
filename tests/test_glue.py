"""uim_utils.book.glue: what the prose cites."""

import numpy as np
import pytest

from uim_utils.book import GLUED, glue


def test_numpy_scalars_are_glued_as_python_numbers():
    """A np.float64 would reach the page as 'np.float64(...)', which ':.3f' cannot format."""
    out = glue("test_numpy_scalar", np.float64(0.25))
    assert type(out) is float and out == 0.25 and type(GLUED["test_numpy_scalar"]) is float
    assert type(glue("test_numpy_int", np.int64(3))) is int
    assert glue("test_python_float", 0.5) == 0.5


def test_glue_names_must_be_citeable():
    with pytest.raises(ValueError, match="gap mean"):
        glue("gap mean", 1.0)
