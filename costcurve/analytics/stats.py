"""Least squares and Student's t quantile, in plain Python.

numpy and scipy are not dependencies of the project; the fits here have at
most a few thousand points, so plain Python is fast enough and keeps the
package small. The t quantile inverts the t distribution function, which is
expressed through the regularized incomplete beta function, evaluated with
the continued fraction of Numerical Recipes (modified Lentz); results agree
with published tables to better than 1e-6.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_EPS = 1e-15
_TINY = 1e-300


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            step = c * d
            h *= step
        if abs(step - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function I_x(a, b) for a, b > 0, 0 <= x <= 1."""
    if a <= 0 or b <= 0:
        raise ValueError("betainc needs a > 0 and b > 0")
    if not 0.0 <= x <= 1.0:
        raise ValueError("betainc needs 0 <= x <= 1")
    if x in (0.0, 1.0):
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The continued fraction converges fast only below the mean; use symmetry above it.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p, e.g. ``t_quantile(0.95, 5) == 2.015048...``."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be strictly between 0 and 1")
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
        if hi > 1e300:
            raise ArithmeticError(f"t quantile for p={p}, df={df} is out of range")
    # Bisection: the CDF is monotone, so this cannot fail; 200 halvings reach
    # the resolution of a double from any bracket.
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class LinearFit:
    """Ordinary least squares of y on x."""

    slope: float
    intercept: float
    slope_se: float
    r2: float
    n: int

    @property
    def dof(self) -> int:
        return self.n - 2

    def slope_interval(self, level: float = 0.90) -> tuple[float, float]:
        """Two-sided confidence interval of the slope from its t distribution."""
        half = t_quantile(0.5 + level / 2.0, self.dof) * self.slope_se
        return self.slope - half, self.slope + half


def ols(x: Sequence[float], y: Sequence[float]) -> LinearFit:
    """Fit y = intercept + slope * x; needs at least 3 points with distinct x."""
    n = len(x)
    if n != len(y):
        raise ValueError("x and y must have the same length")
    if n < 3:
        raise ValueError(
            f"a least-squares fit with a confidence interval needs >= 3 points, got {n}"
        )
    mean_x, mean_y = math.fsum(x) / n, math.fsum(y) / n
    sxx = math.fsum((xi - mean_x) ** 2 for xi in x)
    if sxx == 0:
        raise ValueError("all points have the same x; a slope cannot be fitted")
    sxy = math.fsum((xi - mean_x) * (yi - mean_y) for xi, yi in zip(x, y, strict=True))
    syy = math.fsum((yi - mean_y) ** 2 for yi in y)
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    sse = max(
        0.0, math.fsum((yi - intercept - slope * xi) ** 2 for xi, yi in zip(x, y, strict=True))
    )
    # All y equal: the flat line fits exactly.
    r2 = 1.0 - sse / syy if syy > 0 else 1.0
    slope_se = math.sqrt(sse / (n - 2) / sxx)
    return LinearFit(slope=slope, intercept=intercept, slope_se=slope_se, r2=r2, n=n)
