"""uim_utils.book.glue: what the prose cites."""

import numpy as np
import pytest

from uim_utils.book import GLUED, glue


def test_numpy_scalars_are_glued_as_python_numbers():
    """A np.float64 would reach the page as 'np.float64(...)', which ':.3f' cannot format."""
    glue("test_numpy_scalar", np.float64(0.25))
    glue("test_numpy_int", np.int64(3))
    glue("test_python_float", 0.5)
    assert type(GLUED["test_numpy_scalar"]) is float and GLUED["test_numpy_scalar"] == 0.25
    assert type(GLUED["test_numpy_int"]) is int and GLUED["test_python_float"] == 0.5


def test_glue_shows_nothing_as_a_cell_output():
    """A glue on the last line of a cell must not print its value under the cell."""
    assert glue("test_quiet", 1.5) is None


def test_glue_names_must_be_citeable():
    with pytest.raises(ValueError, match="gap mean"):
        glue("gap mean", 1.0)


def test_glue_record_glues_every_claim_of_a_summary():
    import pandas as pd

    from uim_utils.book import GLUED, glue_record

    summary = pd.DataFrame({"worlds": [20, 20], "estimate": [0.5, None], "low": [0.4, None],
                            "high": [0.6, None], "held": [19, 20]}, index=pd.Index(["1", "all"], name="id"))
    glue_record(summary, {"1": "gap"})
    assert GLUED["rec_worlds"] == 20 and GLUED["rec_gap_held"] == 19
    assert (GLUED["rec_gap_estimate"], GLUED["rec_gap_low"], GLUED["rec_gap_high"]) == (0.5, 0.4, 0.6)
    with pytest.raises(ValueError, match=r"the record summary has no claim \['7'\]"):
        glue_record(summary, {"7": "other"})


def test_train_exercises_is_opt_in(monkeypatch):
    from uim_utils import book

    monkeypatch.delenv(book.TRAIN_EXERCISES_ENV, raising=False)
    assert book.train_exercises() is False
    monkeypatch.setenv(book.TRAIN_EXERCISES_ENV, "1")
    assert book.train_exercises() is True
    monkeypatch.setenv(book.TRAIN_EXERCISES_ENV, "yes")
    with pytest.raises(ValueError, match="UIM_TRAIN_EXERCISES must be 0 or 1, got 'yes'"):
        book.train_exercises()
    assert "UIM_TRAIN_EXERCISES=1" in book.SKIPPED
