"""The package and the `spinbat` command line agree: same numbers, same messages."""

import json

import numpy as np
import pytest

import spinbat
from conftest import close

# the same runs, as CLI arguments and as Chain/charge keywords
CASES = [
    ([], {}, {}),
    (["--alpha", "0.5", "--coupling", "nn", "--boundary", "periodic", "--g", "2"],
     {"alpha": 0.5, "coupling": "nn", "boundary": "periodic", "g": 2.0}, {}),
    (["--p", "0", "--b", "0.7", "--omega", "2.5", "--t-max", "1.5", "--points", "31"],
     {"p": 0.0, "b": 0.7, "omega": 2.5}, {"t_max": 1.5, "points": 31}),
    (["--solver", "chebyshev", "--tol", "1e-9", "--times", "0,0.05,0.1,0.3,0.7"],
     {}, {"solver": "chebyshev", "tol": 1e-9, "times": [0, 0.05, 0.1, 0.3, 0.7]}),
    (["--solver", "mean-field", "--alpha", "0.3"], {"alpha": 0.3}, {"solver": "mean-field"}),
]


@pytest.mark.parametrize("args,chain_kw,charge_kw", CASES)
def test_charge_n6_matches_cli_json(cli, args, chain_kw, charge_kw):
    out = cli("charge", "--n", 6, *args, "--json", "-")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    res = spinbat.Chain(n=6, **chain_kw).charge(**charge_kw)
    assert res.solver == rec["solver"]
    assert res.solver_requested == rec["solver_requested"]
    close(res.max_power, rec["max_power"]["power"], 1e-12)
    close(res.t_star, rec["max_power"]["time"], 1e-12)
    close(res.work_at_max_power, rec["max_power"]["work"], 1e-12)
    close(res.max_work, rec["max_work"]["work"], 1e-12)
    close(res.t_max_work, rec["max_work"]["time"], 1e-12)
    close(res.power_ratio, rec["power_ratio"], 1e-12)
    close(res.t, rec["series"]["t"], 1e-15)
    close(res.work, rec["series"]["work"], 1e-12)
    close(res.power, rec["series"]["power"], 1e-12)
    close(res.error_bound, rec["error_bound"], 1e-12)
    assert res.accuracy == rec["accuracy"]


def test_to_dict_is_the_cli_record(cli):
    rec = json.loads(cli("charge", "--n", 5, "--alpha", "0.2", "--json", "-").stdout)
    mine = spinbat.Chain(n=5, alpha=0.2).charge().to_dict()
    assert mine.keys() == rec.keys()
    assert mine["model"] == rec["model"]
    assert mine["provenance"].keys() == rec["provenance"].keys()
    for key in ["solver", "solver_requested", "tolerance", "accuracy", "window", "evaluations"]:
        assert mine[key] == rec[key], key
    close(mine["series"]["work"], rec["series"]["work"], 1e-12)
    assert json.loads(json.dumps(mine)) == mine  # plain JSON types


def test_matrix_couplings_match_cli(cli, tmp_path):
    m = np.array([[0, 1, 0.5, 0], [1, 0, 0.25, 2], [0.5, 0.25, 0, 1], [0, 2, 1, 0]])
    path = tmp_path / "m.txt"
    np.savetxt(path, m)
    rec = json.loads(cli("charge", "--n", 4, "--matrix", path, "--alpha", "-0.4", "--json", "-").stdout)
    res = spinbat.Chain(n=4, matrix=m, alpha=-0.4).charge()
    close(res.max_power, rec["max_power"]["power"], 1e-12)
    close(res.t_star, rec["max_power"]["time"], 1e-12)
    close(res.work, rec["series"]["work"], 1e-12)


@pytest.mark.parametrize(
    "args,kwargs,exc",
    [
        (["--n", "0"], {"n": 0}, ValueError),
        (["--b", "nan"], {"b": float("nan")}, ValueError),
        (["--g", "-1"], {"g": -1.0}, ValueError),
        (["--p", "-0.5"], {"p": -0.5}, ValueError),
        (["--solver", "magic"], {"solver": "magic"}, ValueError),
        (["--tol", "0"], {"tol": 0.0}, ValueError),
        (["--times", "0.5,0.1"], {"times": [0.5, 0.1]}, ValueError),
        (["--times", "0.1,-1"], {"times": [0.1, -1.0]}, ValueError),
        (["--n", "16", "--solver", "dense"], {"n": 16, "solver": "dense"}, MemoryError),
        (["--n", "5", "--solver", "dicke"], {"n": 5, "solver": "dicke"}, ValueError),
    ],
)
def test_errors_carry_the_cli_message(cli, args, kwargs, exc):
    out = cli("charge", *args)
    assert out.returncode == 2
    prefix = "spinbat: error: "
    assert out.stderr.startswith(prefix), out.stderr
    cli_message = out.stderr[len(prefix):].strip()
    chain_kw = {k: v for k, v in kwargs.items() if k in ("n", "b", "g", "p")}
    charge_kw = {k: v for k, v in kwargs.items() if k not in chain_kw}
    with pytest.raises(exc) as info:
        spinbat.Chain(**chain_kw).charge(**charge_kw)
    if exc is MemoryError:  # the available memory moves between the two runs
        cli_message = cli_message.split(" but only")[0]
        assert str(info.value).startswith(cli_message)
    else:
        assert str(info.value) == cli_message
