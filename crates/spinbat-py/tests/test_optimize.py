"""spinbat.optimize: the CLI's JSON keys and numbers, the one-spin bound, bad input."""

import json
import math

import pytest

import spinbat
from conftest import close

KEYS = ["work", "power", "ergotropy", "schedule", "constant_field", "gradient_check", "start_work", "evaluations"]


@pytest.mark.parametrize("solver,n", [("chebyshev", 2), ("mean-field", 30)])
def test_optimize_matches_the_cli_json(cli, solver, n):
    args = ["--n", n, "--alpha", "0", "--coupling", "nn", "--g", "1", "--charge-time", "1.2",
            "--segments", "12", "--omega-max", "1", "--starts", "2", "--seed", "3", "--solver", solver]
    out = cli("optimize", *args, "--json", "-")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    chain = spinbat.Chain(n=n, alpha=0.0, coupling="nn", g=1.0)
    res = spinbat.optimize(chain, 1.2, segments=12, omega_max=1.0, starts=2, seed=3, solver=solver)
    for key in KEYS:
        assert key in res, key
    close(res["work"], rec["work"], 1e-12)
    close(res["power"], rec["power"], 1e-12)
    close(res["schedule"]["ends"], rec["schedule"]["ends"], 1e-15)
    close(res["schedule"]["omegas"], rec["schedule"]["omegas"], 1e-12)
    close(res["constant_field"]["omega"], rec["constant_field"]["omega"], 1e-12)
    close(res["constant_field"]["work"], rec["constant_field"]["work"], 1e-12)
    close(res["gradient_check"]["adjoint"], rec["gradient_check"]["adjoint"], 1e-9)
    assert res["ergotropy"] == rec["ergotropy"] or math.isclose(res["ergotropy"], rec["ergotropy"], rel_tol=1e-12)
    assert res["work"] >= res["constant_field"]["work"] - 1e-12


def test_one_spin_reaches_the_bound():
    # from |down>, |omega| <= W: W(T) = 2B sin^2(W T) for T <= pi/(2W), by the bang at W
    res = spinbat.optimize(spinbat.Chain(n=1), 0.4, segments=5, omega_max=2.0, starts=2)
    bound = 2.0 * math.sin(2.0 * 0.4) ** 2
    assert abs(res["work"] - bound) < 1e-7
    assert all(abs(abs(w) - 2.0) < 1e-4 for w in res["schedule"]["omegas"])


def test_bad_input_raises_value_error():
    chain = spinbat.Chain(n=2)
    with pytest.raises(ValueError):
        spinbat.optimize(chain, 1.0, omega_max=0.0)
    with pytest.raises(ValueError):
        spinbat.optimize(chain, 1.0, omega_max=1.0, objective="x")
    with pytest.raises(ValueError):
        spinbat.optimize(chain, 1.0, omega_max=1.0, solver="dense")
