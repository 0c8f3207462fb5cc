import numpy as np
import pytest

from dlab.sequences import make_windows


def test_windows_and_targets():
    X, Y = make_windows(np.arange(8), lookback=3, horizon=2)
    assert X.shape == (4, 3) and Y.shape == (4, 2) and X.dtype == np.float32
    np.testing.assert_array_equal(X[0], [0, 1, 2])
    np.testing.assert_array_equal(Y[0], [3, 4])
    np.testing.assert_array_equal(Y[-1], [6, 7])  # the last window ends at the last value


def test_windows_are_copies():
    series = np.arange(6, dtype=np.float32)
    X, _ = make_windows(series, 2)
    X[0, 0] = 99
    assert series[0] == 0


def test_too_short_a_series_is_explained():
    with pytest.raises(ValueError, match="no window"):
        make_windows(np.arange(4), lookback=4)
