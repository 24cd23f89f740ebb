"""The generalised charging Hamiltonian from Python: Chain(gamma=, omega_sites=, keep_field=)."""

import math
import pickle

import numpy as np
import pytest

import spinbat


def rabi(b, omega, t):
    """One spin under H = B Z + omega X from |down>: W = 2B omega^2/(B^2+omega^2) sin^2(sqrt(B^2+omega^2) t)."""
    r = math.hypot(b, omega)
    return 2 * b * omega**2 / r**2 * np.sin(r * t) ** 2


def test_free_spins_with_the_field_on_and_weights_follow_rabi_in_every_solver():
    w = [1.0, 0.0, 0.5, -2.0]
    c = spinbat.Chain(n=4, g=0.0, b=1.3, omega=2.0, omega_sites=w, keep_field=True, alpha=0.3, gamma=0.7)
    assert (c.gamma, c.omega_sites, c.keep_field) == (0.7, w, True)
    for solver in ["dense", "chebyshev", "mean-field"]:
        r = c.charge(t_max=5.0, points=41, solver=solver)
        want = sum(rabi(1.3, 2.0 * wi, r.t) for wi in w)
        assert np.max(np.abs(r.work - want)) < 1e-8, solver
        assert r.max_power * r.t_star <= c.work_bound + 1e-12


def test_defaults_echo_and_pickle():
    c = spinbat.Chain(n=3)
    assert (c.gamma, c.omega_sites, c.keep_field) == (0.0, None, False)
    d = spinbat.Chain(n=3, gamma=0.5, alpha=0.5, omega_sites=[1, 0, 0], keep_field=True)
    assert "gamma=0.5" in repr(d) and "keep_field=True" in repr(d)
    assert pickle.loads(pickle.dumps(d)) == d
    record = d.to_dict()
    assert (record["gamma"], record["keep_field"], record["omega_sites"]) == (0.5, True, [1.0, 0.0, 0.0])
    # with the field kept on, W = -<V> <= |omega| sum |w_i|
    assert d.work_bound <= 4.0 + 1e-15


def test_bad_values_and_refusals_raise_value_error():
    with pytest.raises(ValueError, match="omega_sites"):
        spinbat.Chain(n=3, omega_sites=[1.0, 0.0])
    with pytest.raises(ValueError, match="gamma"):
        spinbat.Chain(n=3, gamma=float("nan"))
    c = spinbat.Chain(n=4, p=0.0, alpha=0.5, gamma=0.5)
    with pytest.raises(ValueError, match="gamma"):
        c.charge(solver="dicke")
    # the Dicke states take the field kept on: the same curve as dense
    c = spinbat.Chain(n=5, p=0.0, alpha=0.3, keep_field=True)
    a, b = c.charge(solver="dicke", points=21), c.charge(solver="dense", points=21)
    assert np.max(np.abs(a.work - b.work)) < 1e-9


def test_free_fermions_charge_the_nearest_neighbour_chain_as_chebyshev_and_auto_picks_them():
    """The open nearest-neighbour Ising chain by Jordan-Wigner fermions and Pfaffians."""
    c = spinbat.Chain(n=14, coupling="nn", g=0.8, omega=3.0)
    ff = c.charge(t_max=1.0, points=41, solver="free-fermion")
    cheb = c.charge(t_max=1.0, points=41, solver="chebyshev")
    auto = c.charge(t_max=1.0, points=41)
    assert np.max(np.abs(ff.work - cheb.work)) < 1e-10
    assert abs(ff.max_power - cheb.max_power) < 1e-10 * cheb.max_power
    assert auto.solver == "free-fermion" and ff.solver == "free-fermion"
