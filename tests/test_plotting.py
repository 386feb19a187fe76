"""Tests of uim_utils.plotting: the shared figure helpers draw what they are given."""

import numpy as np
import pytest


def test_error_bar_curves_and_score_histograms_draw_what_they_are_given():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from uim_utils import plotting

    table = pd.DataFrame({"acc": [0.5, 0.6], "acc_se": [0.01, 0.02]})
    fig, ax = plt.subplots()
    plotting.error_bar_curves(ax, [0, 1], table, [("acc", "accuracy", "tab:blue", "o-")])
    (line,) = ax.get_lines()[:1]
    assert list(line.get_ydata()) == [0.5, 0.6] and ax.get_legend_handles_labels()[1] == ["accuracy"]
    with pytest.raises(ValueError, match="no column 'ood_se'"):
        plotting.error_bar_curves(ax, [0, 1], table.assign(ood=1.0), [("ood", "o", "r", "o-")])
    with pytest.raises(ValueError, match="x has 3 positions but the table has 2 rows"):
        plotting.error_bar_curves(ax, [0, 1, 2], table, [])
    fig2, ax2 = plt.subplots()
    plotting.score_histograms(ax2, np.array([0.1, 0.2, 0.9]), np.array([False, False, True]), ("clean", "bad"))
    assert ax2.get_legend_handles_labels()[1] == ["clean (2)", "bad (1)"]
    plt.close(fig2)
    with pytest.raises(ValueError, match="1-D of equal length"):
        plotting.score_histograms(ax, np.zeros(3), np.zeros(2, bool), ("a", "b"))
    plt.close(fig)
