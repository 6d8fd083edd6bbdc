"""Student's t quantile, incomplete beta and least squares (no scipy in the project)."""

from __future__ import annotations

import math

import pytest

from costcurve.analytics.stats import betainc, ols, t_cdf, t_quantile


@pytest.mark.parametrize(
    ("df", "expected"),
    [
        (1, 6.313752),
        (2, 2.919986),
        (3, 2.353363),
        (5, 2.015048),
        (10, 1.812461),
        (30, 1.697261),
        (120, 1.657651),
    ],
)
def test_t_quantile_95_matches_published_table(df: int, expected: float) -> None:
    assert t_quantile(0.95, df) == pytest.approx(expected, abs=1e-6)


def test_t_quantile_other_levels_match_table() -> None:
    assert t_quantile(0.975, 10) == pytest.approx(2.228139, abs=1e-6)
    assert t_quantile(0.995, 4) == pytest.approx(4.604095, abs=1e-6)
    assert t_quantile(0.95, 10**7) == pytest.approx(1.644854, abs=1e-5)  # -> normal


@pytest.mark.parametrize("p", [0.51, 0.6, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999])
def test_t_quantile_matches_closed_forms_for_one_and_two_dof(p: float) -> None:
    # df=1 is Cauchy: tan(pi (p - 1/2)); df=2: (2p - 1) / sqrt(2 p (1 - p)).
    assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-9)
    assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-9)


def test_t_quantile_is_antisymmetric_and_inverts_the_cdf() -> None:
    assert t_quantile(0.5, 7) == 0.0
    assert t_quantile(0.05, 5) == pytest.approx(-2.015048, abs=1e-6)
    for df in (2, 4.5, 17):
        assert t_cdf(t_quantile(0.9, df), df) == pytest.approx(0.9, abs=1e-12)


def test_t_quantile_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        t_quantile(1.0, 5)
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(0.95, 0)


def test_betainc_known_values() -> None:
    assert betainc(1, 1, 0.3) == pytest.approx(0.3)  # uniform
    assert betainc(2, 3, 0.4) == pytest.approx(0.5248)  # = P(Binomial(4, 0.4) >= 2)
    assert betainc(0.5, 0.5, 0.5) == pytest.approx(0.5)
    assert betainc(2, 3, 0.0) == 0.0
    assert betainc(2, 3, 1.0) == 1.0


def test_ols_on_a_hand_computed_line() -> None:
    # x = 0..3, y = 2, 1, 0, -2: mean x 1.5, mean y 0.25, Sxx 5, Sxy -6.5,
    # slope -1.3, intercept 2.2, residuals -0.2 0.1 0.4 -0.3, SSE 0.3, SST 8.75.
    fit = ols([0, 1, 2, 3], [2, 1, 0, -2])
    assert fit.slope == pytest.approx(-1.3)
    assert fit.intercept == pytest.approx(2.2)
    assert fit.r2 == pytest.approx(1 - 0.3 / 8.75)
    assert fit.slope_se == pytest.approx(math.sqrt(0.15 / 5))
    lo, hi = fit.slope_interval(0.90)
    assert (lo, hi) == pytest.approx((-1.3 - 2.919986 * 0.173205, -1.3 + 2.919986 * 0.173205))


def test_ols_needs_three_points_and_distinct_x() -> None:
    with pytest.raises(ValueError, match=">= 3 points"):
        ols([0, 1], [1, 2])
    with pytest.raises(ValueError, match="same x"):
        ols([1, 1, 1], [1, 2, 3])
