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
