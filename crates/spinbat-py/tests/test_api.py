"""The Python surface: defaults, properties, numpy dtypes and shapes, errors, GIL."""

import math
import pickle

import numpy as np
import pytest

import spinbat
from spinbat import analytic
from conftest import assert_releases_gil, close


def test_defaults_match_the_cli():
    c = spinbat.Chain()
    assert (c.n, c.b, c.g, c.alpha, c.omega) == (8, 1.0, 1.0, 0.0, 4.0)
    assert (c.coupling, c.p, c.boundary, c.matrix) == ("power-law", 1.0, "open", None)
    assert c.total_coupling == pytest.approx(sum((8 - d) / d for d in range(1, 8)), rel=1e-14)
    assert c.initial_energy == pytest.approx(-8 - c.total_coupling, rel=1e-14)
    # energy conservation: W <= N(|B| + B) + min(N|omega|, (1 + 2|alpha|) sum|g| + G)
    assert c.work_bound == pytest.approx(8 * 2 + min(8 * 4, 2 * c.total_coupling), rel=1e-14)
    assert "SOLVERS" in dir(spinbat) and "dicke" in spinbat.SOLVERS
    assert spinbat.DEFAULT_TOL == 1e-10


def test_charge_result_arrays():
    r = spinbat.Chain(n=4).charge()
    for name in ["t", "work", "power"]:
        a = getattr(r, name)
        assert isinstance(a, np.ndarray) and a.dtype == np.float64 and a.shape == (201,), name
        assert not a.flags.writeable, name
    assert r.t[0] == 0.0 and r.t[-1] == pytest.approx(2 * math.pi / 4, rel=1e-15)
    assert r.power[0] == 0.0
    close(r.power[1:], r.work[1:] / r.t[1:], 1e-15)
    assert r.solver == "dense" and r.solver_requested == "auto" and r.tol == 1e-10
    assert r.window == r.t[-1] and r.evaluations > 0 and r.run_time_s >= 0
    assert r.max_power >= r.power.max() - 1e-12
    assert r.max_power == pytest.approx(r.work_at_max_power / r.t_star, rel=1e-14)
    assert r.power_ratio == pytest.approx(r.max_power / r.independent_max_power, rel=1e-14)
    assert r.independent_max_work == 2 * 4
    assert r.certified_until == pytest.approx(r.chain.work_bound / r.max_power, rel=1e-14)
    assert r.chain == spinbat.Chain(n=4)
    assert "max_power=" in repr(r)


def test_times_points_and_tmax():
    c = spinbat.Chain(n=3)
    r = c.charge(t_max=1.0, points=11)
    close(r.t, np.linspace(0, 1, 11), 1e-15)
    r = c.charge(times=np.array([0.1, 0.2, 0.2, 0.5], dtype=np.float32))  # any float type
    assert r.t.dtype == np.float64 and r.t.shape == (4,)
    r = c.charge(times=[1, 2])  # ints too
    assert list(r.t) == [1.0, 2.0]
    # P_max does not depend on the output grid
    p, t = c.max_power()
    for res in [c.charge(), c.charge(times=[0.05]), c.charge(t_max=3.0, points=1001)]:
        assert abs(res.max_power - p) < 1e-12 * p and abs(res.t_star - t) < 1e-9 * t


def test_work_shapes_and_values():
    c = spinbat.Chain(n=5, alpha=0.3)
    times = np.linspace(0, 1, 17)
    work, rate = c.work(times)
    assert work.shape == rate.shape == (17,) and work.dtype == rate.dtype == np.float64
    assert abs(work[0]) < 1e-12
    close(c.charge(times=times).work, work, 1e-12)
    # rate is dW/dt: compare with a centred difference
    h = 1e-5
    wp, _ = c.work([0.4 + h])
    wm, _ = c.work([0.4 - h])
    _, r = c.work([0.4])
    assert abs(r[0] - (wp[0] - wm[0]) / (2 * h)) < 1e-5 * abs(r[0])
    empty_w, empty_r = c.work([])
    assert empty_w.shape == empty_r.shape == (0,)


def test_every_solver_runs_and_the_exact_ones_agree():
    results = {}
    for solver, kw in [("dense", {}), ("chebyshev", {}), ("mean-field", {}), ("weak-coupling", {}), ("dicke", {"p": 0.0})]:
        r = spinbat.Chain(n=6, **kw).charge(solver=solver)
        assert r.solver == solver
        results[solver] = r
        # W(T*) = P_max T*, and the certified maximum is at least every sampled power
        assert abs(r.work_at_max_power - r.max_power * r.t_star) <= 1e-12 * r.work_at_max_power
        assert r.max_power >= np.max(r.power) * (1 - 1e-12)
        # a first-order formula has no error bound: None, never a claimed 0
        if solver == "weak-coupling":
            assert r.error_bound is None
        else:
            assert r.error_bound is not None and 0 <= r.error_bound < 1e-6
    # two exact methods, one chain: the same P_max to their bounds
    dense, cheb = results["dense"], results["chebyshev"]
    assert abs(dense.max_power - cheb.max_power) <= 1e-9 * dense.max_power
    # Dicke against dense on the all-to-all chain
    d0 = spinbat.Chain(n=6, p=0.0).charge(solver="dense")
    assert abs(results["dicke"].max_power - d0.max_power) <= 1e-9 * d0.max_power
    # the weak-coupling P_max is the maximum of Eq. 18 over T, sampled finely here
    wc = results["weak-coupling"]
    t = np.linspace(1e-4, 1.0, 200001)
    w = analytic.weak_coupling_work(wc.chain, t)
    assert abs(wc.max_power - np.max(w / t)) <= 1e-6 * wc.max_power
    # at g = B the first-order formula is a few per cent off the exact dynamics, not exact
    assert 1e-3 < abs(wc.max_power - dense.max_power) / dense.max_power < 0.2
    assert spinbat.Chain(n=6, p=0.0).charge().solver == "dicke"  # auto picks it
    assert spinbat.Chain(n=12).charge(t_max=0.2, points=3).solver == "chebyshev"


def test_mean_field_scales_to_many_sites():
    r = spinbat.Chain(n=2000, alpha=0.5).charge(solver="mean-field", t_max=0.5, points=5, tol=1e-8)
    assert r.solver == "mean-field" and r.max_power > 0


def test_chain_properties_and_matrix():
    m = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=np.int64)
    c = spinbat.Chain(n=3, g=0.5, matrix=m)
    assert c.coupling == "matrix" and c.p is None
    assert c.matrix.dtype == np.float64
    close(c.matrix, m, 0)
    close(c.coupling_matrix(), 0.5 * m, 1e-15)
    assert c.total_coupling == pytest.approx(0.5 * 6, rel=1e-15)
    nn = spinbat.Chain(n=4, coupling="nn", boundary="periodic")
    assert nn.coupling == "nearest-neighbour" and nn.p is None and nn.boundary == "periodic"
    assert nn.coupling_matrix()[0, 3] == 1.0 and nn.coupling_matrix()[0, 2] == 0.0
    assert spinbat.Chain(n=4, coupling="nearest-neighbour") == spinbat.Chain(n=4, coupling="nn")
    assert spinbat.Chain(n=4) != spinbat.Chain(n=5)


def test_repr_pickle_and_dict():
    for c in [spinbat.Chain(n=5, alpha=0.25, p=1.5, boundary="periodic"),
              spinbat.Chain(n=2, matrix=[[0, 2], [2, 0]]), spinbat.Chain(coupling="nn")]:
        assert pickle.loads(pickle.dumps(c)) == c
        d = c.to_dict()
        assert d["n_sites"] == c.n and d["total_coupling"] == c.total_coupling
    c = spinbat.Chain(n=5, alpha=0.25, p=1.5, boundary="periodic")
    assert eval(repr(c), {"Chain": spinbat.Chain}) == c


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n": 0}, "invalid parameter n_sites = 0: a chain needs at least one site"),
        ({"n": -2}, "invalid parameter n_sites = -2"),
        ({"b": float("nan")}, "invalid parameter b = NaN: must be a finite number"),
        ({"omega": 0.0}, "invalid parameter omega = 0: must be > 0"),
        ({"g": float("inf")}, "invalid parameter g = inf"),
        ({"alpha": float("nan")}, "invalid parameter alpha = NaN"),
        ({"p": float("nan")}, "invalid parameter p = NaN"),
        ({"coupling": "star"}, "invalid parameter coupling = star"),
        ({"boundary": "twisted"}, "invalid parameter boundary = twisted"),
        ({"coupling": "matrix"}, 'coupling="matrix" needs matrix='),
        ({"n": 2, "matrix": [[0, 1], [2, 0]]}, "invalid coupling matrix: not symmetric"),
        ({"n": 2, "matrix": [[1, 1], [1, 0]]}, "invalid coupling matrix: diagonal entry"),
        ({"n": 2, "matrix": [0, 1]}, "invalid coupling matrix: must be a 2-d"),
        ({"n": 2, "matrix": [[0, float("nan")], [float("nan"), 0]]}, "invalid coupling matrix: entry (1, 2) = NaN is not finite"),
        ({"n": 2, "matrix": [["a", "b"], ["c", "d"]]}, "invalid coupling matrix: cannot be read"),
    ],
)
def test_bad_chain_raises_value_error(kwargs, message):
    with pytest.raises(ValueError) as info:
        spinbat.Chain(**kwargs)
    assert str(info.value).startswith(message), str(info.value)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"times": [0.1, float("nan")]}, "invalid times: time #2 = NaN must be finite and >= 0"),
        ({"times": [0.3, 0.1]}, "invalid times: times must be sorted ascending"),
        ({"times": []}, "times needs at least one time"),
        ({"times": [0.1], "t_max": 1.0}, "give either times or t_max"),
        ({"t_max": float("nan")}, "invalid t_max NaN"),
        ({"t_max": -1.0}, "invalid t_max -1"),
        ({"points": 1}, "points must be at least 2, got 1"),
        ({"solver": "magic"}, "invalid parameter solver = magic: unknown solver; choose one of auto, dense, chebyshev, dicke"),
        ({"tol": float("nan")}, "invalid parameter tol = NaN: must be a number in (0, 1)"),
        ({"tol": 2.0}, "invalid parameter tol = 2"),
        ({"solver": "dicke"}, "dicke solver cannot be used here"),
    ],
)
def test_bad_charge_raises_value_error(kwargs, message):
    with pytest.raises(ValueError) as info:
        spinbat.Chain(n=4).charge(**kwargs)
    assert str(info.value).startswith(message), str(info.value)


def test_bad_work_and_max_power_raise_value_error():
    c = spinbat.Chain(n=3)
    with pytest.raises(ValueError, match="invalid times"):
        c.work([0.0, float("nan")])
    with pytest.raises(ValueError, match="invalid times"):
        c.work([-1.0])
    with pytest.raises(ValueError, match="unknown solver"):
        c.max_power(solver="exact")
    with pytest.raises(ValueError, match="tol"):
        c.max_power(tol=0.0)


@pytest.mark.parametrize("solver", ["auto", "dense", "chebyshev"])
def test_too_large_raises_memory_error(solver):
    with pytest.raises(MemoryError, match=r"solver for N = 60 needs about .* but only .* is available"):
        spinbat.Chain(n=60).charge(solver=solver)
    with pytest.raises(MemoryError):
        spinbat.Chain(n=60).max_power(solver=solver)
    with pytest.raises(MemoryError):
        spinbat.Chain(n=60).work([0.1], solver=solver)


def test_absurd_points_raise_memory_error():
    with pytest.raises(MemoryError, match="points = 1000000000000000 needs about"):
        spinbat.Chain(n=2).charge(points=10**15)


def test_gil_is_released_while_computing():
    chain = spinbat.Chain(n=12, alpha=0.3)
    assert_releases_gil(chain.max_power)


def test_charge_with_noise_runs_the_density_matrix():
    # vanishing noise is the closed charge; with noise the state mixes, so less of the stored
    # energy is extractable (ergotropy < W, while the closed charge from the ground state has
    # ergotropy = W) and the family keeps its order; bad rates are ValueError
    c = spinbat.Chain(n=4, alpha=0.5)
    closed = c.charge(points=6)
    tiny = c.charge(points=6, dephasing=1e-13)
    assert tiny.to_dict()["solver"] == "density-matrix"
    assert tiny.to_dict()["noise"]["dephasing"] == 1e-13
    assert np.allclose(tiny.work, closed.work, atol=1e-9)
    assert tiny.max_power == pytest.approx(closed.max_power, rel=1e-9)
    noisy = c.charge(points=6, dephasing=1.0, decay=0.3, observe="ergotropy,bloch")
    for p in noisy.to_dict()["observables"]["points"][1:]:
        assert p["ergotropy"] < p["work"] - 1e-6
        assert -1e-10 <= p["local_ergotropy"] <= p["ergotropy_hb"] + 1e-10
        assert p["ergotropy"] <= p["capacity"] + 1e-10
        assert all(x * x + y * y + z * z <= 1 + 1e-9 for x, y, z in p["bloch"])
    with pytest.raises(ValueError, match="dephasing"):
        c.charge(points=3, dephasing=-0.1)
    # the ensemble of trajectories: the mean within 4 standard errors of the density matrix,
    # the same numbers from the same seed, the one-site states and the local ergotropy
    exact = c.charge(points=6, t_max=0.5, dephasing=0.3, decay=0.2, observe="bloch,ergotropy")
    traj = c.charge(
        points=6, t_max=0.5, dephasing=0.3, decay=0.2, solver="trajectories", trajectories=2000, seed=3,
        observe="bloch,ergotropy",
    )
    d = traj.to_dict()
    assert d["solver"] == "trajectories" and d["trajectories"]["trajectories"] == 2000
    se = np.array(d["series"]["work_stderr"])
    assert np.all(np.abs(traj.work - exact.work) <= 4 * se + 1e-9)
    for p, q in zip(d["observables"]["points"], exact.to_dict()["observables"]["points"]):
        assert abs(p["local_ergotropy"] - q["local_ergotropy"]) <= 4 * p["local_ergotropy_stderr"] + 1e-8
        for r, s, x in zip(p["bloch"], p["bloch_stderr"], q["bloch"]):
            assert all(abs(a - b) <= 4 * e + 1e-8 for a, b, e in zip(r, x, s))
    again = c.charge(points=6, t_max=0.5, dephasing=0.3, decay=0.2, solver="trajectories", trajectories=2000, seed=3)
    assert np.array_equal(again.work, traj.work)
    with pytest.raises(ValueError, match="needs noise"):
        c.charge(points=3, solver="trajectories")
    with pytest.raises(ValueError, match="at least 2"):
        c.charge(points=3, dephasing=0.1, solver="trajectories", trajectories=1)
    with pytest.raises(ValueError, match="not linear"):
        c.charge(points=3, dephasing=0.1, solver="trajectories", observe="entanglement")
    with pytest.raises(ValueError, match="decay"):
        c.charge(points=3, temperature=1.0)


def test_charge_observes_the_ergotropy_family():
    # all-down is the ground state (B > 0, g >= 0, |alpha| <= 1): ergotropy = W; a pure
    # state's locked ergotropy is B sum(1 - |r_i|); the Robertson bound holds
    c = spinbat.Chain(n=6, alpha=0.3, coupling="nn")
    r = c.charge(points=11, observe="ergotropy,bloch")
    obs = r.to_dict()["observables"]
    points = obs["points"]
    assert len(points) == 11
    work, rate = c.work(np.array([p["t"] for p in points]))
    for p, w, wd in zip(points, work, rate):
        assert p["ergotropy"] == pytest.approx(p["work"], abs=1e-10)
        assert p["work"] == pytest.approx(w, abs=1e-9)
        locked = sum(1.0 - math.sqrt(x * x + y * y + z * z) for x, y, z in p["bloch"])
        assert p["locked_ergotropy"] == pytest.approx(c.b * locked, abs=1e-9)
        assert abs(wd) <= p["power_bound"] * (1 + 1e-9) + 1e-9
        # Mandelstam-Tamm: p_0 = |<all-down|psi>|^2 is the population of no up spin
        assert p["qsl_time"] <= p["t"] * (1 + 1e-9) + 1e-12
        assert p["capacity"] == pytest.approx(points[0]["capacity"], rel=1e-12)
    star = obs["at_t_star"]
    assert star["t"] == pytest.approx(r.t_star, rel=0, abs=0)
    assert star["locked_ergotropy"] > 0.0
    with pytest.raises(ValueError, match="unknown observable"):
        c.charge(points=3, observe="ergotropy,charm")


def test_charge_block_ergotropy_lies_between_local_and_global():
    # block unitaries are a subset of the global ones and contain the local ones: the
    # block ergotropy lies between local_ergotropy (K = 1, equal) and ergotropy_hb (K = N, equal)
    c = spinbat.Chain(n=6, alpha=0.3, coupling="nn")
    for k, low, high in [(1, "local_ergotropy", "local_ergotropy"), (3, "local_ergotropy", "ergotropy_hb"),
                         (6, "ergotropy_hb", "ergotropy_hb")]:
        pts = c.charge(points=5, observe="ergotropy", block=k).to_dict()["observables"]["points"]
        for p in pts:
            assert p[low] - 1e-9 <= p["block_ergotropy"] <= p[high] + 1e-9, (k, p)
    with pytest.raises(ValueError, match="block"):
        c.charge(points=3, block=2)
    with pytest.raises(ValueError, match="block"):
        c.charge(points=3, observe="ergotropy", block=13)
