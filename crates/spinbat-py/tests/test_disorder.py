"""Disorder ensembles from Python: Chain.charge(disorder_g=, disorder_field=, realisations=, seed=)."""

import math

import numpy as np
import pytest

import spinbat


def test_xxx_disorder_realisations_charge_as_independent_spins():
    # alpha = 1: V commutes with H_g and all-down is an eigenstate of H_g, so each
    # realisation charges as W_r = 2 sum_i B_i^r sin^2(omega t) whatever its couplings;
    # the mean curve is then 2 mean(sum_i B_i) sin^2(omega t) and every P_max is
    # proportional to its sum of fields at the same T* = 1.16556.../omega
    chain = spinbat.Chain(n=5, alpha=1.0, g=1.5)
    r = chain.charge(t_max=0.5, points=11, disorder_g=0.5, disorder_field=0.4, realisations=8, seed=3)
    d = r.to_dict()
    dis = d["disorder"]
    assert dis["count"] == 8 and dis["seed"] == 3
    reals = dis["realisations"]
    assert [x["seed_index"] for x in reals] == list(range(8))
    t_star = [x["t_star"] for x in reals]
    assert max(t_star) - min(t_star) < 1e-8
    assert t_star[0] == pytest.approx(1.1655611852072113 / chain.omega, rel=1e-9)
    # P_max = 2 sum B_i omega 0.7246..., so each realisation's sum of fields; the mean curve
    # at t is their mean times 2 sin^2(omega t)
    sums = np.array([x["p_max"] for x in reals]) / (2 * chain.omega * 0.7246113537767085)
    want = 2 * sums.mean() * np.sin(chain.omega * r.t) ** 2
    np.testing.assert_allclose(r.work, want, rtol=1e-9, atol=1e-12)
    se = np.array(d["series"]["work_stderr"])
    np.testing.assert_allclose(se, 2 * sums.std(ddof=1) / math.sqrt(8) * np.sin(chain.omega * r.t) ** 2, rtol=1e-7, atol=1e-12)
    assert dis["max_power"]["mean"] == pytest.approx(np.mean([x["p_max"] for x in reals]), rel=1e-13)
    # the fields stay within their spread: 5 (1 - 0.4) <= sum B_i <= 5 (1 + 0.4)
    assert np.all((sums > 3.0) & (sums < 7.0))


def test_same_seed_same_numbers_and_bad_settings():
    chain = spinbat.Chain(n=4)
    a = chain.charge(points=5, disorder_field=0.3, realisations=3, seed=1).to_dict()
    b = chain.charge(points=5, disorder_field=0.3, realisations=3, seed=1).to_dict()
    assert a["disorder"]["realisations"] == b["disorder"]["realisations"]
    assert a["disorder"]["count"] == 3
    for kwargs, message in [
        (dict(disorder_g=1.0), "disorder_g"),
        (dict(disorder_field=-0.1), "disorder_field"),
        (dict(disorder_g=0.1, realisations=0), "realisations"),
        (dict(realisations=4), "need disorder_g or disorder_field"),
        (dict(disorder_g=0.1, observe="bloch"), "not implemented"),
    ]:
        with pytest.raises(ValueError, match=message):
            chain.charge(points=5, **kwargs)
