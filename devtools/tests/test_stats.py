"""The one percentile definition: linear interpolation between closest ranks."""

import statistics

import pytest

from devtools.stats import percentile


@pytest.mark.parametrize("p, expected", [(0, 1), (50, 50.5), (99, 99.01), (100, 100), (25, 25.75)])
def test_given_1_to_100_when_percentile_then_linear_interpolation(p, expected):
    assert percentile(range(100, 0, -1), p) == pytest.approx(expected)


def test_given_bad_input_when_percentile_then_error():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_given_whole_p_when_percentile_then_it_is_the_inclusive_quantile_of_the_standard_library():
    values = [3.5, 120.0, 7.25, 7.25, 48.0, 0.5, 19.0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    assert [percentile(values, p) for p in range(1, 100)] == pytest.approx(cuts)
