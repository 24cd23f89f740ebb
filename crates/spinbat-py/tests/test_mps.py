"""solver="mps" from Python: the settings of `spinbat charge --solver mps` and its record."""

import json
import math

import pytest

import spinbat
from conftest import close

# the MPS keys of the CLI's JSON (top level, --solver mps only)
MPS_KEYS = [
    "bond_dim", "bond_dim_reached", "truncation", "time_step", "discarded_weight", "truncation_estimate",
    "truncation_bound", "step_error_estimate", "mpo_fit_error", "mpo_bond_dim", "certify_truncation",
    "certify_error_estimate",
]


def test_mps_settings_match_cli_json(cli):
    # p = 1, alpha = 0.3 at N = 8: long-range flip-flops, so the state entangles and every
    # accuracy figure is nonzero; the settings away from their defaults
    out = cli("charge", "--n", 8, "--alpha", 0.3, "--solver", "mps", "--bond-dim", 12, "--truncation", 1e-12,
              "--time-step", 0.01, "--t-max", 0.6, "--points", 7, "--json", "-")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    res = spinbat.Chain(n=8, alpha=0.3).charge(t_max=0.6, points=7, solver="mps", bond_dim=12, truncation=1e-12,
                                               time_step=0.01)
    mine = res.to_dict()
    assert mine.keys() == rec.keys()
    assert res.solver == rec["solver"] == "mps"
    assert res.accuracy == rec["accuracy"]
    for key in MPS_KEYS:
        close(mine[key], rec[key], 1e-12)
    assert (mine["bond_dim"], mine["truncation"], mine["time_step"]) == (12, 1e-12, 0.01)
    assert 1 < mine["bond_dim_reached"] <= 12
    assert mine["truncation_estimate"] > 0 and mine["truncation_bound"] >= mine["truncation_estimate"]
    assert mine["step_error_estimate"] > 0 and mine["mpo_fit_error"] < 1e-12
    close(res.max_power, rec["max_power"]["power"], 1e-12)
    close(res.t_star, rec["max_power"]["time"], 1e-12)
    close(res.work, rec["series"]["work"], 1e-12)
    close(res.error_bound, rec["error_bound"], 1e-12)


def test_mps_defaults_and_agreement_with_the_exact_solver():
    chain = spinbat.Chain(n=8, alpha=-0.4, p=2.0)
    res = chain.charge(t_max=0.5, points=6, solver="mps")
    rec = res.to_dict()
    # the library's defaults: chi = 64, eps = 1e-10, the step h/4 (recorded)
    assert (rec["bond_dim"], rec["truncation"]) == (64, 1e-10)
    assert rec["time_step"] > 0
    exact = chain.charge(t_max=0.5, points=6, solver="chebyshev", tol=1e-12)
    # within the solver's own estimate (and far inside the scale of W)
    err = max(abs(a - b) for a, b in zip(res.work, exact.work))
    assert err <= res.error_bound, (err, res.error_bound)
    assert abs(res.max_power - exact.max_power) <= res.error_bound / res.t_star
    # the other solvers carry no MPS keys
    assert not set(MPS_KEYS) & set(exact.to_dict())


@pytest.mark.parametrize("kw", [
    {"bond_dim": 0}, {"bond_dim": -3}, {"truncation": 1.0}, {"truncation": -1e-12}, {"truncation": math.nan},
    {"time_step": 0.0}, {"time_step": -0.01}, {"time_step": math.inf},
])
def test_bad_mps_settings_raise_value_error(kw):
    with pytest.raises(ValueError, match="invalid parameter"):
        spinbat.Chain(n=6).charge(points=3, solver="mps", **kw)


@pytest.mark.parametrize("solver", ["auto", "chebyshev", "mean-field"])
def test_mps_settings_need_the_mps_solver(solver):
    with pytest.raises(ValueError, match="need the mps solver"):
        spinbat.Chain(n=6).charge(points=3, solver=solver, bond_dim=8)


def test_mps_with_disorder_is_refused():
    with pytest.raises(ValueError, match="disorder"):
        spinbat.Chain(n=6).charge(points=3, solver="mps", disorder_g=0.1)
