"""spinbat.scan: the rows of `spinbat scan --json`, single runs of the same chains, the
CLI's error messages, DataFrame with pandas and dicts without."""

import json
import math
import sys

import pytest

import spinbat
from conftest import assert_releases_gil, close

# the same scans, as CLI arguments and as spinbat.scan arguments
CASES = [
    (["--vary", "alpha=0:1:0.25", "--n", "4", "--coupling", "nn", "--solvers", "quantum,mean-field"],
     dict(vary="alpha=0:1:0.25", n=4, coupling="nn", solvers="quantum,mean-field")),
    (["--vary", "n=2..6", "--p", "0", "--solvers", "quantum,weak-coupling", "--power-only"],
     dict(vary="n", values="2..6", p=0.0, solvers=["quantum", "weak-coupling"], power_only=True)),
    (["--vary", "g=0.5,1,2", "--n", "5", "--alpha", "0.3", "--solvers", "chebyshev,dense",
      "--window", "1.0", "--tol", "1e-9"],
     dict(vary="g", values=[0.5, 1, 2], chain=spinbat.Chain(n=5, alpha=0.3),
          solvers=("chebyshev", "dense"), window=1.0, tol=1e-9)),
]

NUMBERS = {  # row column -> path in the CLI's JSON row
    "value": ("value",),
    "n_sites": ("n_sites",),
    "max_power": ("max_power", "power"),
    "t_star": ("max_power", "time"),
    "work_at_max_power": ("max_power", "work"),
    "max_work": ("max_work", "work"),
    "t_max_work": ("max_work", "time"),
    "power_at_max_work": ("max_work", "power"),
    "window": ("window",),
    "power_ratio": ("power_ratio",),
    "work_ratio": ("work_ratio",),
    "independent_max_power": ("independent", "max_power", "power"),
    "independent_max_work": ("independent", "max_work", "work"),
    "error_bound": ("error_bound",),
}


def rows_of(result):
    """The rows as dicts whatever scan returned (a DataFrame's NaN read back as None)."""
    if isinstance(result, list):
        return result
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in result.to_dict("records")]


def lookup(row, path):
    for key in path:
        if row is None:
            return None
        row = row[key]
    return row


@pytest.mark.parametrize("args,kwargs", CASES)
def test_scan_rows_equal_the_cli_scan_json(cli, args, kwargs):
    out = cli("scan", *args, "--json", "-")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    mine = rows_of(spinbat.scan(**kwargs))
    assert len(mine) == len(rec["rows"]) == len(rec["values"]) * len(rec["solvers"])
    for r, theirs in zip(mine, rec["rows"]):
        assert list(r) == spinbat._scan.COLUMNS
        for key in ["solver", "method", "accuracy"]:
            assert r[key] == theirs[key], key
        for column, path in NUMBERS.items():
            expected = lookup(theirs, path)
            if expected is None:
                assert r[column] is None, column
            else:
                close(r[column], expected, 1e-12)


def test_scan_rows_equal_single_runs_of_each_chain():
    base = spinbat.Chain(n=5, coupling="nn", g=2.0)
    rows = rows_of(spinbat.scan("alpha", "0:1:0.5", base, solvers=["quantum", "mean-field"]))
    assert [(r["value"], r["solver"]) for r in rows] == [
        (a, s) for a in (0.0, 0.5, 1.0) for s in ("quantum", "mean-field")
    ]
    for r in rows:
        chain = spinbat.Chain(n=5, coupling="nn", g=2.0, alpha=r["value"])
        p_max, t_star = chain.max_power(solver=r["method"])
        close(r["max_power"], p_max, 1e-12)
        close(r["t_star"], t_star, 1e-12)
        one = chain.charge(times=[r["window"]], solver=r["method"])
        close(r["max_work"], one.max_work, 1e-12)
        close(r["t_max_work"], one.t_max_work, 1e-12)
        close(r["power_ratio"], one.power_ratio, 1e-12)
        # physics: XXX is N independent spins, P_max = N P1 and W_max = 2BN (physics.md 2)
        if r["value"] == 1.0:
            close(r["power_ratio"], 1.0, 1e-9)
            close(r["work_ratio"], 1.0, 1e-9)
    # Fig. 2: P_max grows as alpha decreases
    quantum = [r["max_power"] for r in rows if r["solver"] == "quantum"]
    assert quantum[0] > quantum[1] > quantum[2]


def test_noise_scan_rows_equal_the_charge_with_that_rate(cli):
    # a noise rate varied: each point is Chain.charge with that rate (the density matrix; the
    # Dicke density matrix at p = 0 with collective decay), the zero point the closed battery
    for kwargs, rate, values in [
        (dict(n=4, alpha=0.3), "dephasing", [0.0, 0.1, 0.3]),
        (dict(n=30, p=0.0, g=0.5), "collective_decay", [0.0, 0.05, 0.2]),
    ]:
        rows = rows_of(spinbat.scan(rate, values, power_only=True, **kwargs))
        assert [r["value"] for r in rows] == values
        chain = spinbat.Chain(**kwargs)
        for r in rows:
            one = chain.charge(**{rate: r["value"]})
            close(r["max_power"], one.max_power, 1e-9)
            close(r["t_star"], one.t_star, 1e-8)
            assert (r["method"] == "density-matrix") == (r["value"] > 0), r
        assert len({round(r["max_power"], 6) for r in rows}) == len(values), "the rate matters"
    # the same as the CLI scan, with a base noise set by keyword and by flag
    args = ["--vary", "temperature=0.5,2", "--decay", "0.2", "--n", "3", "--power-only"]
    theirs = json.loads(cli("scan", *args, "--json", "-").stdout)["rows"]
    ours = rows_of(spinbat.scan("temperature", [0.5, 2.0], n=3, decay=0.2, power_only=True))
    for r, t in zip(ours, theirs):
        close(r["max_power"], t["max_power"]["power"], 1e-12)
    with pytest.raises(ValueError, match="needs a decay rate"):
        spinbat.scan("temperature", [1.0], n=3)


@pytest.mark.parametrize(
    "cli_args,kwargs,exc",
    [
        (["--vary", "q=1,2"], [dict(vary="q=1,2"), dict(vary="q", values="1,2")], ValueError),
        (["--vary", "n=5..2"], [dict(vary="n=5..2"), dict(vary="n", values="5..2")], ValueError),
        (["--vary", "alpha=0:1:-0.1"], [dict(vary="alpha", values="0:1:-0.1")], ValueError),
        (["--vary", "n=0,2"], [dict(vary="n", values=[0, 2])], ValueError),
        (["--vary", "p=1,2", "--coupling", "nn"], [dict(vary="p=1,2", coupling="nn")], ValueError),
        (["--vary", "g=1", "--solvers", "magic"], [dict(vary="g=1", solvers="magic")], ValueError),
        (["--vary", "g=1", "--tol", "2"], [dict(vary="g=1", tol=2.0)], ValueError),
        (["--vary", "g=1", "--window", "-1"], [dict(vary="g=1", window=-1.0)], ValueError),
        (["--vary", "g=1", "--n", "5", "--solvers", "dicke"], [dict(vary="g=1", n=5, solvers="dicke")], ValueError),
        (["--vary", "alpha=0", "--n", "40", "--solvers", "dense"],
         [dict(vary="alpha=0", n=40, solvers="dense")], MemoryError),
    ],
)
def test_errors_carry_the_cli_message(cli, cli_args, kwargs, exc):
    out = cli("scan", *cli_args)
    assert out.returncode == 2, out.stderr
    prefix = "spinbat: error: "
    assert out.stderr.startswith(prefix), out.stderr
    cli_message = out.stderr[len(prefix):].strip()
    for kw in kwargs:
        with pytest.raises(exc) as info:
            spinbat.scan(**kw)
        if exc is MemoryError:  # the available memory moves between the two runs
            assert str(info.value).startswith(cli_message.split(" but only")[0])
        else:
            assert str(info.value) == cli_message, kw


def test_argument_errors():
    with pytest.raises(ValueError, match="not both"):
        spinbat.scan("alpha=0,1", values=[0, 1])
    with pytest.raises(ValueError, match="not both"):
        spinbat.scan("alpha=0,1", chain=spinbat.Chain(), n=4)
    with pytest.raises(ValueError, match="a sweep needs at least one value"):
        spinbat.scan("alpha", [])
    with pytest.raises(ValueError, match="sequence of numbers"):
        spinbat.scan("alpha", [[0.0, 1.0]])
    with pytest.raises(TypeError):
        spinbat.scan("alpha=0", alhpa=0.5)  # a misspelt model keyword


def test_a_dataframe_with_pandas():
    pandas = pytest.importorskip("pandas")
    df = spinbat.scan("omega", [2.0, 4.0], n=3, solvers="quantum,mean-field", power_only=True)
    assert isinstance(df, pandas.DataFrame)
    assert list(df.columns) == spinbat._scan.COLUMNS and len(df) == 4
    assert df["max_power"].dtype == "float64" and df["n_sites"].dtype == "int64"
    assert df["max_work"].isna().all() and df["work_ratio"].isna().all()  # power_only
    assert df.attrs["vary"] == "omega" and df.attrs["chain"]["n_sites"] == 3
    table = df.pivot(index="value", columns="solver", values="max_power")
    assert table.shape == (2, 2)
    # the reference N P1 is the closed form of one spin (physics.md 1) times N
    for omega, p_ref in zip(df["value"], df["independent_max_power"]):
        close(p_ref, 3 * spinbat.analytic.one_spin_max_power(b=1.0, omega=omega)[0], 1e-14)
    close(df["power_ratio"], df["max_power"] / df["independent_max_power"], 1e-14)


def test_a_list_of_dicts_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` raises ImportError
    rows = spinbat.scan("omega", [2.0, 4.0], n=3, solvers="quantum,mean-field", power_only=True)
    assert isinstance(rows, list) and len(rows) == 4
    assert all(isinstance(r, dict) and list(r) == spinbat._scan.COLUMNS for r in rows)
    assert all(r["max_work"] is None and r["window"] is None for r in rows)
    assert [r["solver"] for r in rows] == ["quantum", "mean-field"] * 2
    monkeypatch.undo()
    try:
        import pandas  # noqa: F401
    except ImportError:
        return
    again = rows_of(spinbat.scan("omega", [2.0, 4.0], n=3, solvers="quantum,mean-field", power_only=True))
    for a, b in zip(rows, again):
        assert {k: v for k, v in a.items() if k != "run_time_s"} == {k: v for k, v in b.items() if k != "run_time_s"}


def test_gil_is_released_while_scanning():
    assert_releases_gil(lambda: spinbat.scan(vary="alpha", values=[0.3], n=12, power_only=True))
