"""spinbat.store: the one-spin closed forms of storage with decay, noiseless storage keeps W
and the ergotropy for H0, the record matches `spinbat store --json`, bad input is ValueError."""

import math

import numpy as np
import pytest

import spinbat


def test_one_spin_decay_in_storage():
    # charged to |up> (omega T = pi/2), decay gamma in storage: W = 2B e^{-gamma s},
    # ergotropy 2B max(0, 2 e^{-gamma s} - 1); half-lives ln2/gamma and ln(4/3)/gamma
    gamma = 0.5
    chain = spinbat.Chain(n=1, omega=1.0)
    s = spinbat.store(chain, [0.0, 0.5, 1.0, 2.0, 4.0], charge_time=math.pi / 2, decay=gamma, noise_during="storage")
    assert isinstance(s, spinbat.Storage) and s.noise_during == "storage"
    for name in ["t", "work", "rate", "ergotropy", "ergotropy_hb", "local_ergotropy"]:
        a = getattr(s, name)
        assert isinstance(a, np.ndarray) and a.dtype == np.float64 and a.shape == (5,), name
        assert not a.flags.writeable
    assert np.allclose(s.work, 2 * np.exp(-gamma * s.t), atol=1e-9)
    assert np.allclose(s.ergotropy, 2 * np.maximum(0, 2 * np.exp(-gamma * s.t) - 1), atol=1e-9)
    assert s.work_half_life == pytest.approx(math.log(2) / gamma, abs=1e-9)
    assert s.ergotropy_half_life == pytest.approx(math.log(4 / 3) / gamma, abs=1e-7)
    d = s.to_dict()
    assert d["series"]["t"] == list(s.t) and len(d["observables"]["points"]) == 5
    assert d["half_lives"]["work"]["time"] == s.work_half_life


def test_noiseless_storage_keeps_work_and_ergotropy():
    chain = spinbat.Chain(n=4, alpha=0.5, coupling="nn")
    s = spinbat.store(chain, t_max=2.0, points=5)
    assert s.charge_time == pytest.approx(chain.max_power()[1], rel=1e-9)
    assert np.allclose(s.work, s.work_at_charge, atol=1e-9)
    assert np.allclose(s.ergotropy, s.ergotropy[0], atol=1e-8)
    assert s.work_half_life is None and "not reached" in s.to_dict()["half_lives"]["work"]["reason"]


def test_bad_storage_input_is_value_error():
    chain = spinbat.Chain(n=2)
    with pytest.raises(ValueError, match="noise_during"):
        spinbat.store(chain, noise_during="sometimes")
    with pytest.raises(ValueError, match="times"):
        spinbat.store(chain, [0.0, -1.0])
    with pytest.raises(ValueError, match="decay"):
        spinbat.store(chain, decay=-0.1)
    with pytest.raises(ValueError, match="N <= 12"):
        spinbat.store(spinbat.Chain(n=13), decay=0.1)


def test_thermal_start_of_charge_and_store():
    # the Gibbs state of H0 at T0: W(0) = 0, passive (ergotropy 0 at the start), colder
    # charges more; T0 = 0 on a chain whose ground state is all-down is the all-down run
    chain = spinbat.Chain(n=4, alpha=0.4, coupling="nn")
    cold = chain.charge(t_max=0.6, points=7)
    zero = chain.charge(t_max=0.6, points=7, initial_temperature=0.0)
    assert np.array_equal(cold.work, zero.work)
    warm = chain.charge(t_max=0.6, points=7, initial_temperature=1.0, observe="ergotropy")
    d = warm.to_dict()
    assert d["solver"] == "density-matrix" and d["initial_temperature"] == 1.0
    assert d["initial_energy"] > d["model"]["initial_energy"]
    assert abs(warm.work[0]) < 1e-12
    assert abs(d["observables"]["points"][0]["ergotropy"]) < 1e-10
    assert warm.max_power < cold.max_power
    # g = 0: the Gibbs state of H_B at the bath's temperature is its fixed point in storage
    free = spinbat.Chain(n=3, g=0.0)
    s = spinbat.store(
        free, [0.0, 1.0, 2.0], charge_time=0.0, decay=0.5, temperature=0.9, noise_during="storage",
        initial_temperature=0.9,
    )
    assert np.allclose(s.work, 0.0, atol=1e-9)
    assert s.to_dict()["initial_temperature"] == 0.9
    for bad in [-1.0, float("nan")]:
        with pytest.raises(ValueError, match="initial_temperature"):
            chain.charge(t_max=0.5, points=3, initial_temperature=bad)
        with pytest.raises(ValueError, match="initial_temperature"):
            spinbat.store(chain, [0.0, 1.0], initial_temperature=bad)
    with pytest.raises(ValueError, match="mixed"):
        chain.charge(t_max=0.5, points=3, solver="dense", initial_temperature=1.0)


def test_storage_by_trajectories_agrees_with_the_density_matrix():
    # one random stream through charge and storage per trajectory: the mean W and the local
    # ergotropy of the mean one-site states within 4 standard errors of the density matrix
    chain = spinbat.Chain(n=4, alpha=0.3, coupling="nn")
    times = [0.0, 1.0, 2.5]
    kw = dict(charge_time=0.5, dephasing=0.2, decay=0.3)
    exact = spinbat.store(chain, times, **kw)
    traj = spinbat.store(chain, times, solver="trajectories", trajectories=800, seed=3, **kw)
    assert traj.solver == "trajectories" and exact.work_stderr is None
    se = traj.work_stderr
    assert isinstance(se, np.ndarray) and se.shape == (3,) and np.all(se > 0)
    assert np.all(np.abs(traj.work - exact.work) <= 4 * se + 1e-8)
    d = traj.to_dict()
    local_se = np.array([p["local_ergotropy_stderr"] for p in d["observables"]["points"]])
    assert np.all(np.abs(traj.local_ergotropy - exact.local_ergotropy) <= 4 * local_se + 1e-8)
    assert np.all(np.isnan(traj.ergotropy)) and traj.ergotropy_half_life is None
    assert d["ensemble"]["trajectories"] == 800 and d["ensemble"]["mean_jumps"] > 0
    again = spinbat.store(chain, times, solver="trajectories", trajectories=800, seed=3, **kw)
    assert np.array_equal(again.work, traj.work)
    with pytest.raises(ValueError, match="trajectories"):
        spinbat.store(chain, times, trajectories=10, **kw)
    with pytest.raises(ValueError, match="zz"):
        spinbat.store(chain, times, solver="trajectories", observe="zz", **kw)
