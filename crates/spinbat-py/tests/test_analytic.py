"""Closed forms: the analytic module and the solvers reproduce the limits of physics.md."""

import math

import numpy as np
import pytest

import spinbat
from spinbat import analytic
from conftest import close

P1_FACTOR = 1.44922270755  # P_max of one spin / (omega B)
X_STAR = 1.1655611852072  # omega T* of one spin


def test_one_spin_constants():
    assert abs(analytic.one_spin_optimal_phase() - X_STAR) < 1e-12
    assert abs(analytic.one_spin_power_factor() - P1_FACTOR / 2) < 1e-11
    x = analytic.one_spin_optimal_phase()
    assert abs(math.tan(x) - 2 * x) < 1e-12


@pytest.mark.parametrize("b,omega", [(1.0, 1.0), (0.7, 2.5), (2.0, 4.0)])
def test_one_spin_max_power(b, omega):
    p, t = analytic.one_spin_max_power(b=b, omega=omega)
    assert abs(p - P1_FACTOR * omega * b) < 1e-10 * omega * b
    assert abs(omega * t - X_STAR) < 1e-12
    # the certified search on a one-spin chain finds the same maximum
    for solver in ["dense", "chebyshev", "mean-field"]:
        p_num, t_num = spinbat.Chain(n=1, b=b, omega=omega).max_power(solver=solver)
        assert abs(p_num - P1_FACTOR * omega * b) < 1e-9 * omega * b, solver
        assert abs(omega * t_num - X_STAR) < 1e-7, solver


@pytest.mark.parametrize("solver", ["dense", "chebyshev", "mean-field"])
@pytest.mark.parametrize("coupling", ["nn", "power-law"])
def test_xxx_charges_like_independent_spins(solver, coupling):
    chain = spinbat.Chain(n=5, alpha=1.0, g=1.3, b=0.8, omega=3.0, coupling=coupling)
    times = np.linspace(0.0, 2.0, 33)
    work, rate = chain.work(times, solver=solver)
    exact = 2 * chain.b * chain.n * np.sin(chain.omega * times) ** 2
    close(work, exact, 1e-9)
    close(rate, 2 * chain.b * chain.n * chain.omega * np.sin(2 * chain.omega * times), 1e-8)
    close(analytic.independent_work(times, 5, b=0.8, omega=3.0), exact, 1e-15)


def test_one_spin_work_vectorised():
    t = np.linspace(0, 1, 12).reshape(3, 4)
    w = analytic.one_spin_work(t, b=0.5, omega=2.0)
    assert w.shape == (3, 4) and w.dtype == np.float64
    close(w, 2 * 0.5 * np.sin(2.0 * t) ** 2, 1e-15)
    assert isinstance(analytic.one_spin_work(0.25), float)


def test_weak_coupling_formula_and_solver():
    chain = spinbat.Chain(n=7, g=0.02, alpha=0.25, coupling="nn")
    times = np.linspace(0, 1.5, 25)
    g_total = chain.total_coupling
    eq18 = 2 * chain.n * np.sin(4 * times) ** 2 + (1 - 0.25) * g_total * np.sin(8 * times) ** 2
    close(analytic.weak_coupling_work(chain, times), eq18, 1e-14)
    work, rate = chain.work(times, solver="weak-coupling")
    close(work, eq18, 1e-14)
    # the exact time derivative of Eq. 18 (B = 1, omega = 4):
    # d/dt [2BN sin^2(wt) + (1 - alpha) G sin^2(2wt)] = 2BNw sin(2wt) + 2(1 - alpha) G w sin(4wt)
    d_eq18 = 2 * chain.n * 4 * np.sin(8 * times) + 2 * (1 - 0.25) * g_total * 4 * np.sin(16 * times)
    close(analytic.weak_coupling_rate(chain, times), d_eq18, 1e-13)
    close(rate, d_eq18, 1e-13)
    # the exact dynamics differs by O(g^2): halving g quarters the deviation
    dev = []
    for g in [0.04, 0.02]:
        c = spinbat.Chain(n=7, g=g, alpha=0.25, coupling="nn")
        exact, _ = c.work(times, solver="dense")
        dev.append(np.max(np.abs(exact - analytic.weak_coupling_work(c, times))))
    assert 3.0 < dev[0] / dev[1] < 5.0, dev
    w_max, t_max = analytic.weak_coupling_max_work(chain)
    assert w_max == 2 * chain.n and abs(t_max - math.pi / 8) < 1e-15


def test_weak_coupling_max_work_beyond_threshold():
    # 2(1 - alpha)G / BN > 1: the second branch of Eq. 19
    chain = spinbat.Chain(n=3, g=3.0, alpha=0.0, p=0.0)
    bn, a = 3.0, chain.total_coupling
    w, t = analytic.weak_coupling_max_work(chain)
    assert abs(w - bn**2 * (1 + 2 * a / bn) ** 2 / (4 * a)) < 1e-12
    assert abs(analytic.weak_coupling_work(chain, t) - w) < 1e-12


def test_strong_coupling_effective_couplings():
    assert analytic.two_spin_effective_coupling(40.0, omega=3.0) == pytest.approx(9.0 / 40.0, rel=1e-15)
    assert analytic.three_spin_effective_coupling(20.0, omega=2.0) == pytest.approx(3 * 8 / (8 * 400), rel=1e-15)
    t = np.linspace(0, 1, 5)
    slow3 = analytic.three_spin_strong_coupling_slow(t, g=20.0, b=1.0, omega=2.0)
    close(slow3, 6 * np.sin(3 * 8 * t / (8 * 400)) ** 2, 1e-15)


def test_two_spins_strong_coupling_converges_to_exact():
    # Eqs. 13 + 14 are the leading order in omega/g: relative to the fast amplitude 4 omega^2/g
    # the deviation from the exact work must shrink like omega/g (halve when g doubles)
    omega = 1.0
    rel = []
    for g in [40.0, 80.0, 160.0, 320.0]:
        chain = spinbat.Chain(n=2, g=g, omega=omega, alpha=0.0, coupling="nn")
        times = np.linspace(0, 3 * np.pi / g, 61)
        fast, slow = analytic.two_spin_strong_coupling(times, g=g, omega=omega)
        exact, _ = chain.work(times)
        approx = fast + slow - 2 * omega**2 / g
        rel.append(np.max(np.abs(exact - approx)) / (4 * omega**2 / g))
    ratios = [b / a for a, b in zip(rel, rel[1:])]
    assert all(0.3 < r < 0.7 for r in ratios), (rel, ratios)
    assert rel[-1] < 2 * omega / 320.0, rel


@pytest.mark.parametrize(
    "call",
    [
        lambda: analytic.one_spin_max_power(b=float("nan")),
        lambda: analytic.one_spin_max_power(omega=0.0),
        lambda: analytic.two_spin_effective_coupling(0.0),
        lambda: analytic.three_spin_strong_coupling_slow(0.1, g=-1.0),
        lambda: analytic.independent_work(0.1, 0),
    ],
)
def test_analytic_rejects_bad_parameters(call):
    with pytest.raises(ValueError, match="invalid parameter"):
        call()
