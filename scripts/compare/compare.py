#!/usr/bin/env python3
"""Side-by-side benchmark: the certified maximal power P_max computed by spinbat, QuSpin and QuTiP.

Run it through run.sh (which makes the virtualenv and builds spinbat):

    scripts/compare/run.sh [N] [options of this script]

or directly, from the repository root, once scripts/compare/.venv exists:

    scripts/compare/.venv/bin/python scripts/compare/compare.py --n 16 --reps 3

Problem (physics.md conventions, hbar = 1): power law p = 1, alpha = 0, g = 1, omega = 4,
B = 1, open chain of N spins, charged from all-down by H = H_g + V (H_B off):
    H0 = B sum_i Z_i - sum_{i<j} g_ij Z_i Z_j      (alpha = 0)
    H  = -sum_{i<j} g_ij Z_i Z_j + omega sum_i X_i,  g_ij = g / |i - j|
    W(t) = <psi(t)|H0|psi(t)> - E_0,  W'(t) = 2 Im <H0 psi|H psi>,
    P_max = max_{T > 0} W(T)/T  and its time T*.

Every Python tool runs the same algorithm as spinbat (crates/spinbat/src/observe):
  * sample W and W' on the grid T_k = k h, h = pi/(16 Lambda),
    Lambda = |omega| + (1 + |alpha|) max_i sum_j |g_ij|, propagating step by step, until the
    certified stop W_bound/T_k < best W/T (no later T can give more power: W is
    bounded by N(|B| + B) + min(N|omega|, lambda_max(H_g) + G), the bound spinbat uses);
  * take the grid interval around the best grid point where f(T) = T W'(T) - W(T) changes sign
    from + to -, and refine it with scipy.optimize.brentq to |dT| <= 1e-13 T, each evaluation a
    fresh propagation from the interval's start;
  * P_max = W(T*)/T*.

Each tool run is a separate worker process (`compare.py worker TOOL N`), so the threads,
imports and memory of one tool do not affect another, and a run can be stopped at a time
limit. The time compared ("compute") is measured inside the worker from the first operator
construction to the end of the search (imports and interpreter start excluded, which favours
the Python tools); for spinbat it is the wall time of the whole `spinbat charge` process.

`compare.py check N` validates the operators of every tool against a plain numpy kron
construction (E_0 and W(t), W'(t) at several times, from scipy.linalg.eigh) and P_max against
the same search on the exact eigendecomposition; use it for N <= 10.

Curve mode (`--curve`, `run.sh curve N`): the charging curve W(t) at the 201 times t = 2k/200,
k = 0..200, instead of P_max. spinbat: `spinbat charge --n N --t-max 2 --points 201 --json FILE`
(which also certifies P_max), W from `series.work`; QuSpin: the parity block, one
ExpmMultiplyParallel step exp(-i H 0.01) applied from time to time, <H0> from its diagonal;
QuTiP: one `sesolve(H, psi0, tlist, e_ops=[H0])` (dop853 at atol = rtol = 1e-14, or Krylov).
Agreement is absolute on W (default 1e-8) at all 201 times; the table goes to
results-curve-N.md. `compare.py check-curve N` checks every curve against scipy.linalg.eigh.
"""

import argparse
import datetime
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
# the spinbat binary: target/release/spinbat, or $SPINBAT (e.g. a build of a fixed revision);
# $SPINBAT_REV labels it in the results when it was built outside a git checkout
SPINBAT = os.environ.get("SPINBAT") or os.path.join(ROOT, "target", "release", "spinbat")

# The problem: BENCHMARKS.md's chain.
B, G, ALPHA, OMEGA, P_EXP = 1.0, 1.0, 0.0, 4.0, 1.0
REFINE_XTOL = 1e-13  # relative, in T, as spinbat

# QuTiP integrator settings (the "tight tolerance" ODE and the Krylov propagator)
# (dop853 is the fastest of QuTiP's ODE methods here at this tolerance and far more accurate than
# the default adams: at N = 16, dop853 3.1 s, |dP|/P = 8e-11; adams 5.6 s, 4.7e-9; vern7 18 s;
# vern9 36 s. `--qutip-ode adams` selects another one.)
QUTIP_ODE = {"method": "dop853", "atol": 1e-12, "rtol": 1e-12, "nsteps": 10**8}
# Krylov: krylov_dim 20 was the fastest of 12, 16, 20, 25, 30, 50 at N = 16 and 18.
QUTIP_KRYLOV = {"method": "krylov", "krylov_dim": 20, "atol": 1e-13, "always_compute_step": True,
                "nsteps": 10**6, "min_step": 1e-9}

TOOLS = {
    # name: (short setup, full setup, slow?)
    "spinbat": ("Chebyshev, matrix-free, reflection-even sector (~2^(N-1)), rayon threads",
                "`spinbat charge --n N --t-max 0.05 --points 2 --json -` (solver auto = matrix-free Chebyshev "
                "for N > 10, tolerance 1e-10 on W, all cores via rayon); the time is the whole process", False),
    "quspin-parity": ("ExpmMultiplyParallel, parity block",
                      "QuSpin `spin_basis_1d(N, pblock=1, pauli=1)`: the reflection-even block (dimension "
                      "~2^(N-1)), which holds the all-down state and is kept by H and H0; `hamiltonian` with "
                      "`zz`, `x`, `z` terms (float64), propagated by `quspin.tools.evolution.ExpmMultiplyParallel` "
                      "(Al-Mohy-Higham Taylor, OpenMP) on complex128 states", False),
    "quspin-full": ("ExpmMultiplyParallel, full 2^N",
                    "as quspin-parity without symmetry blocks (`spin_basis_1d(N, pauli=1)`, dimension 2^N)", False),
    "qutip-krylov": ("SESolver method='krylov', dim 20",
                     "QuTiP `SESolver` (the class `qutip.sesolve` runs) with `method='krylov'`: Lanczos "
                     "(full reorthogonalisation) subspaces of dimension 20, `atol=1e-13`, step length "
                     "recomputed for each subspace; operators `tensor(sigmaz()/sigmax(), qeye(2), ...)` (CSR)", True),
    "qutip-sesolve": ("SESolver method='{method}', atol=rtol=1e-12",
                      "QuTiP `SESolver` (the class `qutip.sesolve` runs) with the ODE method '{method}', "
                      "`atol=rtol=1e-12`; same operators", True),
}


# ----------------------------------------------------------------------------- the problem
def couplings(n):
    """g_ij = g / |i-j|^p, open chain, as a list of rows (pure Python: no numpy import yet)."""
    return [[0.0 if i == j else G / abs(i - j) ** P_EXP for j in range(n)] for i in range(n)]


class Problem:
    def __init__(self, n):
        self.n = n
        self.gm = couplings(n)
        self.pairs = [(i, j, self.gm[i][j]) for i in range(n) for j in range(i + 1, n) if self.gm[i][j] != 0.0]
        self.lam = abs(OMEGA) + (1.0 + abs(ALPHA)) * max(sum(abs(x) for x in row) for row in self.gm)
        self.h = math.pi / (16.0 * self.lam)
        self.e0 = -n * B - sum(g for _, _, g in self.pairs)
        # the certifying bound spinbat uses: W <= N(|B| + B) + min(N|omega|, lambda_max(H_g) + G)
        # (energy conservation; lambda_max from the Ising diagonal plus the flip-flop row sum),
        # computed before any timing starts
        import numpy as np

        diag = np.zeros(1 << n)
        s = np.arange(1 << n, dtype=np.int64)
        for i, j, g in self.pairs:
            diag -= g * (2.0 * ((s >> i) & 1) - 1.0) * (2.0 * ((s >> j) & 1) - 1.0)
        hg_max = float(diag.max()) + 2.0 * abs(ALPHA) * sum(abs(g) for _, _, g in self.pairs)
        total = sum(g for _, _, g in self.pairs)
        self.bound = n * (abs(B) + B) + min(n * abs(OMEGA), hg_max + total)


# ----------------------------------------------------------------------------- the search
class Propagator:
    """Interface the search uses. States are opaque to it.

    start(state, t0); step(t) -> state at t >= last t (continuing); observe(state) -> (W, W')."""

    psi0 = None
    evolutions = 0  # propagation calls (grid steps + Brent evaluations)


def certified_max_power(prop, prob):
    import scipy.optimize

    h, bound = prob.h, prob.bound
    prop.start(prop.psi0, 0.0)
    grid = [(0.0, 0.0, 0.0)]  # (t, W, W')
    best_p, best_k = 0.0, 0
    kept = {}  # states at the best grid point and its left neighbour
    prev = prop.psi0
    k = 0
    while True:
        k += 1
        t = k * h
        psi = prop.step(t)
        prop.evolutions += 1
        w, r = prop.observe(psi)
        grid.append((t, w, r))
        if w / t > best_p:
            best_p, best_k = w / t, k
            kept = {k - 1: prev, k: psi}
        prev = psi
        if bound / t < best_p and k > best_k:
            break
        if k > 10**6:
            raise RuntimeError("no certified maximum within 1e6 grid points")

    def f_of(s):
        t, w, r = s
        return t * r - w  # > 0 while W/T increases, < 0 after its maximum

    if f_of(grid[best_k]) > 0.0:
        lo_k = best_k
    else:
        lo_k = best_k - 1
    lo, hi = grid[lo_k], grid[lo_k + 1]
    if not (f_of(lo) > 0.0 >= f_of(hi)) or lo_k < 1:
        raise RuntimeError(f"no sign change of T W' - W around the best grid point {best_k}: {lo} {hi}")
    psi_lo, t_lo = kept[lo_k], lo[0]
    last = {}

    def f(t):
        # brentq starts with the two ends: their values are known (spinbat passes them too)
        if t == lo[0]:
            return f_of(lo)
        if t == hi[0]:
            return f_of(hi)
        prop.start(psi_lo, t_lo)
        psi = prop.step(t)
        prop.evolutions += 1
        w, r = prop.observe(psi)
        last[t] = w
        return t * r - w

    t_star = scipy.optimize.brentq(f, lo[0], hi[0], xtol=REFINE_XTOL * hi[0], rtol=1e-15, maxiter=200)
    w_star = last[t_star] if t_star in last else None
    if w_star is None:
        prop.start(psi_lo, t_lo)
        w_star, _ = prop.observe(prop.step(t_star))
        prop.evolutions += 1
    p_star = w_star / t_star
    # like spinbat: never report less than the best grid value
    if best_p > p_star:
        t_star, w_star, p_star = grid[best_k][0], grid[best_k][1], best_p
    return {"power": p_star, "time": t_star, "work": w_star, "grid_points": k,
            "certified_until": bound / p_star, "evolutions": prop.evolutions}


# ----------------------------------------------------------------------------- QuSpin
class QuSpinProp(Propagator):
    def __init__(self, prob, parity, checks=False, dt=None):
        import numpy as np
        from quspin.basis import spin_basis_1d
        from quspin.operators import hamiltonian
        from quspin.tools.evolution import ExpmMultiplyParallel

        self.np = np
        n = prob.n
        # pauli=1: the operator strings "x", "z", "zz" are Pauli matrices (not spin-1/2 S = sigma/2)
        blocks = {"pblock": 1} if parity else {}
        self.basis = spin_basis_1d(n, pauli=1, **blocks)
        zz = [[-g, i, j] for i, j, g in prob.pairs]
        xfield = [[OMEGA, i] for i in range(n)]
        zfield = [[B, i] for i in range(n)]
        flags = {} if checks else {"check_symm": False, "check_herm": False, "check_pcon": False}
        self.H = hamiltonian([["zz", zz], ["x", xfield]], [], basis=self.basis, dtype=np.float64, **flags)
        self.H0 = hamiltonian([["zz", zz], ["z", zfield]], [], basis=self.basis, dtype=np.float64, **flags)
        self.Hcsr = self.H.tocsr()
        self.H0csr = self.H0.tocsr()
        # all down: bit string of zeros ("1" = up in QuSpin's spin basis); reflection-even, so it is
        # its own representative with unit norm in the parity block
        self.psi0 = np.zeros(self.basis.Ns, dtype=np.complex128)
        self.psi0[self.basis.index("0" * n)] = 1.0
        self.e0 = prob.e0
        # dt: the first step length (the grid step h unless given: the curve mode's 0.01)
        self.dt_now = dt or prob.h
        self.expm = ExpmMultiplyParallel(self.Hcsr, a=-1j * self.dt_now, dtype=np.complex128)
        self.work = np.zeros(2 * self.basis.Ns, dtype=np.complex128)
        self.dim = self.basis.Ns

    def start(self, state, t0):
        self.state, self.t = state, t0

    def step(self, t):
        dt = t - self.t
        if dt != self.dt_now:
            self.expm.set_a(-1j * dt)
            self.dt_now = dt
        self.state = self.expm.dot(self.state, work_array=self.work)
        self.t = t
        return self.state

    def observe(self, psi):
        np = self.np
        h0psi = self.H0csr @ psi
        hpsi = self.Hcsr @ psi
        return float(np.vdot(psi, h0psi).real) - self.e0, float(2.0 * np.vdot(h0psi, hpsi).imag)


# ----------------------------------------------------------------------------- QuTiP
def qutip_operators(prob):
    """H, H0 and the all-down state, built the QuTiP way (tensor products of sigmaz, sigmax, qeye)."""
    import qutip

    n = prob.n
    ident = qutip.qeye(2)

    def site(op, i):
        ops = [ident] * n
        ops[i] = op
        return qutip.tensor(ops)

    zs = [site(qutip.sigmaz(), i) for i in range(n)]
    xs = [site(qutip.sigmax(), i) for i in range(n)]
    h_g = 0
    for i, j, g in prob.pairs:
        h_g = h_g - g * (zs[i] * zs[j])
    h = h_g + OMEGA * sum(xs[1:], xs[0])
    h0 = h_g + B * sum(zs[1:], zs[0])
    # QuTiP's sigmaz has basis(2, 0) = +1 (up): "down" is basis(2, 1)
    psi0 = qutip.tensor([qutip.basis(2, 1)] * n)
    return h, h0, psi0


class QuTiPProp(Propagator):
    def __init__(self, prob, options):
        import qutip

        self.qutip = qutip
        self.H, self.H0, self.psi0 = qutip_operators(prob)
        self.e0 = prob.e0
        n = prob.n
        self.solver = qutip.SESolver(self.H, options=dict(options))
        self.dim = 2**n

    def start(self, state, t0):
        self.solver.start(state, t0)
        # QuTiP 5.3.1: IntegratorKrylov.set_state never sets the `_is_set` flag that
        # SESolver.step checks, so step() after start() raises "The `start` method must called
        # first" although the Krylov state is ready. Set the flag (a no-op for the ODE methods).
        integ = getattr(self.solver, "_integrator", None)
        if integ is not None and not getattr(integ, "_is_set", True):
            integ._is_set = True

    def step(self, t):
        return self.solver.step(t)

    def observe(self, psi):
        qutip = self.qutip
        h0psi = self.H0 @ psi
        w = qutip.expect(self.H0, psi) - self.e0
        r = 2.0 * h0psi.overlap(self.H @ psi).imag
        return float(w), float(r)


def make_prop(tool, prob, checks=False, ode=None):
    if tool == "quspin-parity":
        return QuSpinProp(prob, parity=True, checks=checks)
    if tool == "quspin-full":
        return QuSpinProp(prob, parity=False, checks=checks)
    if tool == "qutip-krylov":
        return QuTiPProp(prob, QUTIP_KRYLOV)
    if tool == "qutip-sesolve":
        return QuTiPProp(prob, dict(QUTIP_ODE, method=ode or QUTIP_ODE["method"]))
    raise ValueError(tool)


# ----------------------------------------------------------------------------- workers
def worker(tool, n, ode=None):
    """One timed run of a Python tool; prints one JSON line."""
    prob = Problem(n)
    # imports are not timed
    import numpy  # noqa: F401
    import scipy.optimize  # noqa: F401

    if tool.startswith("qutip"):
        import qutip  # noqa: F401
    else:
        import quspin.basis  # noqa: F401
        import quspin.operators  # noqa: F401
        import quspin.tools.evolution  # noqa: F401
    c0, t0 = time.process_time(), time.perf_counter()
    prop = make_prop(tool, prob, ode=ode)
    t1 = time.perf_counter()
    res = certified_max_power(prop, prob)
    t2, c2 = time.perf_counter(), time.process_time()
    res.update({"tool": tool, "n": n, "build_s": t1 - t0, "search_s": t2 - t1, "compute_s": t2 - t0,
                "cpu_s": c2 - c0, "dim": prop.dim})
    print(json.dumps(res), flush=True)


def spinbat_cmd(n):
    return [SPINBAT, "charge", "--n", str(n), "--t-max", "0.05", "--points", "2", "--json", "-"]


def children_cpu():
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_spinbat(n):
    c0, t0 = children_cpu(), time.perf_counter()
    out = subprocess.run(spinbat_cmd(n), check=True, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    rec = json.loads(out.stdout)
    mp = rec["max_power"]
    return {"tool": "spinbat", "n": n, "power": mp["power"], "time": mp["time"], "work": mp["work"],
            "compute_s": wall, "process_s": wall, "cpu_s": cpu, "run_time_s": rec["run_time_s"], "solver": rec["solver"],
            "tolerance": rec["tolerance"], "error_bound": rec["error_bound"],
            "certified_until": rec["certified_until"], "provenance": rec["provenance"]}


def worker_env(tool, threads):
    """Threads of a worker. QuSpin's expm kernel is OpenMP: `threads` threads, waiting passively
    (with GOMP's default spinning, a kernel on 2 threads ran 5x slower than on 1 as soon as another
    process used a core). QuTiP's sparse kernels are single-threaded; its dense BLAS calls (Krylov
    basis products) get 1 thread, as OpenBLAS threads made the Krylov run 3x slower on a shared machine."""
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads) if tool.startswith("quspin") else "1"
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONWARNINGS"] = "ignore"
    return env


def run_worker(tool, n, threads, timeout, ode=None, kind="worker"):
    """One worker process (kind "worker": the P_max search, "curve-worker": the charging curve)."""
    env = worker_env(tool, threads)
    cmd = [sys.executable, os.path.abspath(__file__), kind, tool, str(n)] + ([ode] if ode else [])
    t0 = time.perf_counter()
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "n": n, "timed_out": True, "timeout_s": timeout}
    except subprocess.CalledProcessError as e:
        sys.stderr.write(e.stderr)
        raise
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process_s"] = time.perf_counter() - t0
    return res


# ----------------------------------------------------------------------------- machine, versions
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine_info():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "platform": platform.platform(),
            "python": platform.python_version()}


def versions():
    from importlib.metadata import version, PackageNotFoundError

    v = {}
    for pkg in ("qutip", "quspin", "quspin-extensions", "parallel-sparse-tools", "numpy", "scipy", "numba"):
        try:
            v[pkg] = version(pkg)
        except PackageNotFoundError:
            v[pkg] = "absent"
    v["rustc"] = sh("rustc --version")
    return v


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return ["?"] * 3


# ----------------------------------------------------------------------------- validation
def check(n, tools):
    """Operators of every tool vs a numpy kron construction; P_max vs exact diagonalisation."""
    import numpy as np
    import scipy.linalg

    prob = Problem(n)
    # numpy, spinbat's bit convention: index bit i = 1 means site i up; (down, up) local order
    px = np.array([[0.0, 1.0], [1.0, 0.0]])
    pz = np.array([[-1.0, 0.0], [0.0, 1.0]])

    def site(op, i):
        out = np.array([[1.0]])
        for k in reversed(range(n)):
            out = np.kron(out, op if k == i else np.eye(2))
        return out

    xs = [site(px, i) for i in range(n)]
    zs = [site(pz, i) for i in range(n)]
    hg = -sum(g * zs[i] @ zs[j] for i, j, g in prob.pairs)
    h = hg + OMEGA * sum(xs)
    h0 = hg + B * sum(zs)
    ev, u = scipy.linalg.eigh(h)
    psi0 = np.zeros(2**n)
    psi0[0] = 1.0
    c0 = u.T @ psi0
    e0_state = psi0 @ h0 @ psi0
    assert abs(e0_state - prob.e0) < 1e-12, (e0_state, prob.e0)

    class Exact(Propagator):
        def __init__(self):
            self.psi0 = psi0.astype(complex)
            self.dim = 2**n

        def start(self, state, t0):
            self.c, self.t0 = u.T @ state, t0

        def step(self, t):
            return u @ (np.exp(-1j * ev * (t - self.t0)) * self.c)

        def observe(self, psi):
            h0psi = h0 @ psi
            return float(np.vdot(psi, h0psi).real) - prob.e0, float(2 * np.vdot(h0psi, h @ psi).imag)

    exact = Exact()
    times = [0.013, 0.05, 0.1234, 0.2, 0.37]
    ref = []
    for t in times:
        exact.start(exact.psi0, 0.0)
        ref.append(exact.observe(exact.step(t)))
    ex_max = certified_max_power(exact, prob)
    print(f"N = {n}: E_0 = {prob.e0:.12f}, h = {prob.h:.6f}, exact (numpy kron + eigh) P_max = "
          f"{ex_max['power']:.13f} at T* = {ex_max['time']:.13f}")
    worst = 0.0
    for tool in tools:
        if tool == "spinbat":
            r = run_spinbat(n)
            dw = 0.0
            e0_err = 0.0
        else:
            prop = make_prop(tool, prob, checks=True)
            w0, r0 = prop.observe(prop.psi0)
            e0_err = abs(w0)  # <psi0|H0|psi0> - E_0
            dw = 0.0
            for t, (wr, rr) in zip(times, ref):
                prop.start(prop.psi0, 0.0)
                w, rate = prop.observe(prop.step(t))
                dw = max(dw, abs(w - wr), abs(rate - rr) / max(1.0, abs(rr)))
            r = certified_max_power(prop, prob)
        dp = abs(r["power"] - ex_max["power"]) / ex_max["power"]
        dt = abs(r["time"] - ex_max["time"]) / ex_max["time"]
        worst = max(worst, dp, dt)
        ops = "(its own tests)" if tool == "spinbat" else f"{e0_err:.1e}  max |dW|, |dW'|/max(1,|W'|) at {len(times)} times = {dw:.1e}"
        print(f"  {tool:14s} |<H0>_0 - E_0| = {ops}  P_max = {r['power']:.13f} (rel {dp:.1e})  T* = {r['time']:.13f} (rel {dt:.1e})")
        assert e0_err < 1e-10 and dw < 1e-6, f"{tool} disagrees with the numpy kron construction"
    return worst


# ----------------------------------------------------------------------------- benchmark
def fmt_runs(rs):
    return " ".join(f"{r:.2f}" if r >= 0.1 else f"{r:.3f}" for r in rs)


def fmt_s(x):
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def time_tools(args, n, tools, table, run_one, describe):
    """Times each tool `args.reps` times (`args.slow_reps` for the slow ones of `table`),
    stopping a tool at its first run past the time limit; prints each run with `describe`.
    Returns {tool: [run, ...]}."""
    results = {}
    for tool in tools:
        reps = args.slow_reps if (table[tool][2] and args.slow_reps) else args.reps
        runs = []
        for rep in range(reps):
            r = run_one(tool)
            runs.append(r)
            if r.get("timed_out"):
                print(f"{tool:14s} N = {n}: run {rep + 1}/{reps} stopped at the time limit {args.timeout} s",
                      flush=True)
                break
            print(f"{tool:14s} N = {n}: run {rep + 1}/{reps}: compute {r['compute_s']:.3f} s "
                  f"(process {r['process_s']:.3f} s), {describe(r)}", flush=True)
        results[tool] = runs
    return results


def timing_row(tool, ok):
    """The timing fields of a table row: the runs and the medians of wall, CPU and process time."""
    return {"tool": tool, "runs_s": [r["compute_s"] for r in ok],
            "median_s": statistics.median(r["compute_s"] for r in ok),
            "cpu_median_s": statistics.median(r["cpu_s"] for r in ok),
            "process_median_s": statistics.median(r["process_s"] for r in ok)}


def reference(results):
    """spinbat's first run and its median compute wall and CPU times (None where it did not run)."""
    if "spinbat" not in results:
        return None, None, None
    runs = results["spinbat"]
    return runs[0], statistics.median(r["compute_s"] for r in runs), statistics.median(r["cpu_s"] for r in runs)


def common_row(tool, ok, ref_time, ref_cpu):
    """The fields every mode's table row has: timing, a Python tool's build / search medians and
    dimension, the ratios to spinbat."""
    row = timing_row(tool, ok)
    last = ok[-1]
    if "build_s" in last:
        row["build_median_s"] = statistics.median(r["build_s"] for r in ok)
        row["search_median_s"] = statistics.median(r["search_s"] for r in ok)
        row["dim"] = last["dim"]
    if ref_time:
        row["ratio"] = row["median_s"] / ref_time
        row["cpu_ratio"] = row["cpu_median_s"] / ref_cpu
    return row


def build_cell(r, results):
    """The build / search (or propagation) column: a Python tool's medians, spinbat's own run_time_s."""
    if r["tool"] == "spinbat":
        return f"(internal run_time_s {fmt_s(statistics.median(x['run_time_s'] for x in results['spinbat']))})"
    return f"{fmt_s(r['build_median_s'])} / {fmt_s(r['search_median_s'])}" if "build_median_s" in r else "—"


def was_shared(load_before, load_after, threads):
    """Whether other jobs ran while timing, from the load averages around it."""
    return not (float(load_before[0]) < 0.5 and float(load_after[0]) < 0.5 + threads)


def finish(lines, *, info, started, load_before, load_after, shared, ref, vers, run_sh, skip, spinbat_line,
           out_md, payload):
    """The notes every mode ends with (machine, versions, command), then the Markdown and JSON files."""
    lines.append(f"- Machine: {info['nproc']} cores ({info['cpu']}), {info['memory']} RAM, {info['platform']}, "
                 f"Python {info['python']}. Started {started}; load average (1, 5, 15 min) before "
                 f"{' '.join(load_before)}, after {' '.join(load_after)}"
                 + (" — **the machine was shared with other jobs while timing; absolute times are "
                    "indicative**." if shared else "."))
    spv = ref["provenance"] if ref else {}
    rev = spv.get("git_rev") or os.environ.get("SPINBAT_REV") or "?"
    lines.append(f"- Versions: spinbat {spv.get('version', '?')} (git {rev}), {vers['rustc']}; "
                 + ", ".join(f"{k} {v}" for k, v in vers.items() if k != "rustc") + ".")
    argv = sys.argv[1:]
    for flag in skip:  # how run.sh passes the mode and N
        if argv[:1] == [flag]:
            argv = argv[1:]
    cmd = run_sh + " " + " ".join(shlex.quote(a) for a in argv)
    if os.environ.get("SPINBAT"):
        cmd = f"SPINBAT={os.environ['SPINBAT']} SPINBAT_REV={rev} " + cmd
    lines.append(f"- Command: `{cmd}` (spinbat: `{spinbat_line.replace(ROOT + '/', '')}`).")
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    with open(out_md, "w") as f:
        f.write(text)
    with open(os.path.splitext(out_md)[0] + ".json", "w") as f:
        json.dump({**payload, "machine": info, "versions": vers, "load_before": load_before,
                   "load_after": load_after, "started": started, "argv": sys.argv[1:]}, f, indent=1)
    print(f"wrote {os.path.relpath(out_md, ROOT)}")


def bench(args):
    n = args.n
    prob = Problem(n)
    tools = args.tools
    info = machine_info()
    load_before = loadavg()
    started = datetime.datetime.now().isoformat(timespec="seconds")
    threads = args.threads or info["nproc"]
    results = time_tools(
        args, n, tools, TOOLS,
        lambda tool: run_spinbat(n) if tool == "spinbat" else run_worker(
            tool, n, threads, args.timeout, args.qutip_ode if tool == "qutip-sesolve" else None),
        lambda r: f"P_max = {r['power']:.13f}, T* = {r['time']:.13f}")
    load_after = loadavg()

    ref, ref_time, ref_cpu = reference(results)
    rows = []
    for tool in tools:
        runs = results[tool]
        ok = [r for r in runs if not r.get("timed_out")]
        if not ok:
            rows.append({"tool": tool, "timed_out": True, "timeout_s": args.timeout})
            continue
        last = ok[-1]
        row = {**common_row(tool, ok, ref_time, ref_cpu), "power": last["power"], "time": last["time"],
               "work": last["work"]}
        # every run of a tool must give the same answer
        row["spread_power"] = max(abs(r["power"] - last["power"]) for r in ok) / last["power"]
        if "build_s" in last:
            row["evolutions"] = last["evolutions"]
            row["grid_points"] = last["grid_points"]
        if ref:
            row["rel_dp"] = abs(last["power"] - ref["power"]) / ref["power"]
            row["rel_dt"] = abs(last["time"] - ref["time"]) / ref["time"]
        rows.append(row)

    tol = args.agree
    agree = all(r.get("rel_dp", 0.0) <= tol and r.get("rel_dt", 0.0) <= tol for r in rows if not r.get("timed_out"))
    shared = was_shared(load_before, load_after, threads)

    vers = versions()
    lines = []
    lines.append(f"# P_max side by side: spinbat, QuSpin, QuTiP — N = {n}")
    lines.append("")
    lines.append(f"Chain: power law p = 1, alpha = 0, g = 1, omega = 4, B = 1, open, N = {n} "
                 f"(E_0 = {prob.e0:.10f}, work bound N(|B|+B) + min(N|omega|, lambda_max(H_g) + G) = {prob.bound:g}, grid step "
                 f"h = pi/(16 Lambda) = {prob.h:.10f}, Lambda = {prob.lam:.10f}). Every tool computes the certified "
                 f"P_max = max_T W(T)/T and T* with the same algorithm (grid to the certified stop, then Brent on "
                 f"T W' - W to 1e-13 relative in T).")
    lines.append("")
    lines.append("| tool | setup | compute wall [s], median | runs [s] | build / search [s] | process wall [s] | "
                 "CPU [s] | P_max [B^2] | T* [1/B] | \\|ΔP_max\\|/P_max vs spinbat | \\|ΔT*\\|/T* vs spinbat | "
                 "time / spinbat | CPU / spinbat |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        setup = TOOLS[r["tool"]][0].replace("{method}", args.qutip_ode)
        if r.get("timed_out"):
            lines.append(f"| {r['tool']} | {setup} | > {r['timeout_s']:g} (stopped at the time limit) | — | — | — | — | — | — | "
                         f"— | — | > {r['timeout_s'] / ref_time:.0f} | — |")
            continue
        bs = build_cell(r, results)
        lines.append(f"| {r['tool']} | {setup} | {fmt_s(r['median_s'])} | {fmt_runs(r['runs_s'])} | {bs} | "
                     f"{fmt_s(r['process_median_s'])} | {fmt_s(r['cpu_median_s'])} | {r['power']:.12f} | {r['time']:.12f} | "
                     f"{r.get('rel_dp', 0):.1e} | {r.get('rel_dt', 0):.1e} | {r.get('ratio', 1):.1f} | "
                     f"{r.get('cpu_ratio', 1):.1f} |")
    lines.append("")
    lines.append(f"Agreement: every tool within {tol:g} relative of spinbat on P_max and T*: "
                 f"**{'yes' if agree else 'NO'}**.")
    extra = [r for r in rows if "evolutions" in r]
    if extra:
        lines.append("Work per Python run: " + "; ".join(
            f"{r['tool']}: dim {r['dim']}, {r['grid_points']} grid points, {r['evolutions']} propagations "
            f"(grid + Brent)" for r in extra) + ".")
    lines.append("")
    lines.append("Setups:")
    for tool in tools:
        lines.append(f"- **{tool}**: " + TOOLS[tool][1].replace("{method}", args.qutip_ode) + ".")
    lines.append("")
    lines.append("Notes:")
    lines.append("- compute wall: for spinbat the wall time of the whole `spinbat charge` process (its own "
                 "`run_time_s` in brackets); for the Python tools the time inside the worker process from the "
                 "first operator construction to the end of the search (imports and interpreter start "
                 "excluded; \"process wall\" includes them). CPU: user + system time of that same span, all threads "
                 "added (less sensitive than wall time to other jobs on the machine). Ratios: medians / spinbat's.")
    lines.append(f"- Runs per tool: {args.reps}" + (f" ({args.slow_reps} for the QuTiP rows)" if args.slow_reps else "")
                 + f"; threads: spinbat all cores (rayon), QuSpin OMP_NUM_THREADS = {threads} "
                 "(OMP_WAIT_POLICY=PASSIVE), QuTiP single-threaded (its sparse kernels are; BLAS threads 1).")
    finish(lines, info=info, started=started, load_before=load_before, load_after=load_after, shared=shared,
           ref=ref, vers=vers, run_sh="scripts/compare/run.sh", skip=["--n"], spinbat_line=" ".join(spinbat_cmd(n)),
           out_md=args.out or os.path.join(HERE, f"results-{n}.md"), payload={"n": n, "rows": rows, "runs": results})
    return 0 if agree else 1


# ----------------------------------------------------------------------------- curve mode
# The charging curve W(t) at CURVE_POINTS uniformly spaced times on [0, CURVE_T_MAX]:
# t_k = CURVE_T_MAX k / (CURVE_POINTS - 1), k = 0 .. CURVE_POINTS - 1 (t = 0, 0.01, ..., 2).
CURVE_T_MAX, CURVE_POINTS = 2.0, 201
CURVE_DT = CURVE_T_MAX / (CURVE_POINTS - 1)

CURVE_TOOLS = {
    # name: (short setup, full setup, slow?)
    "spinbat": ("`charge --t-max 2 --points 201`, curve + certified P_max",
                "`spinbat charge --n N --t-max 2 --points 201 --json FILE` (the command users run: it also "
                "certifies P_max; solver auto = matrix-free Chebyshev for N > 10, tolerance 1e-10 on W, all cores "
                "via rayon), W from the record's `series.work`; the time is the whole process", False),
    "quspin-parity": ("ExpmMultiplyParallel, parity block, dt = 0.01 steps",
                      "QuSpin `spin_basis_1d(N, pblock=1, pauli=1)` (reflection-even block, dimension ~2^(N-1)), "
                      "`hamiltonian` from `zz`, `x`, `z` terms (float64); one `ExpmMultiplyParallel` (OpenMP) with "
                      "`a = -i dt`, dt = 0.01, applied 200 times in place (`overwrite_v=True`) on a complex128 "
                      "state; <H0> from the diagonal of H0 (H0 is diagonal in the block's basis)", False),
    "quspin-full": ("ExpmMultiplyParallel, full 2^N, dt = 0.01 steps",
                    "as quspin-parity without symmetry blocks (`spin_basis_1d(N, pauli=1)`, dimension 2^N)", False),
    "qutip-sesolve": ("sesolve method='{method}', atol=rtol={tol}, e_ops=[H0]",
                      "QuTiP `sesolve(H, psi0, tlist, e_ops=[H0])` with the 201 times in `tlist`, ODE method "
                      "'{method}', `atol = rtol = {tol}`, `nsteps = 1e8`, states not stored; operators "
                      "`tensor(sigmaz()/sigmax(), qeye(2), ...)` (CSR)", True),
    "qutip-krylov": ("sesolve method='krylov', dim 20, e_ops=[H0]",
                     "QuTiP `sesolve(H, psi0, tlist, e_ops=[H0])` with `method='krylov'` (Lanczos subspaces of "
                     "dimension 20, `atol=1e-13`); same operators", True),
}
CURVE_DEFAULT_TOOLS = ["spinbat", "quspin-parity", "qutip-sesolve", "qutip-krylov"]
# QuTiP's ODE settings for the curve (`--curve-ode-tol` changes atol = rtol). The error of dop853 on W
# grows with N and with t: max |dW| over the 201 times vs QuSpin at atol = rtol = 1e-12 / 1e-13 / 1e-14:
# N = 12: 9.5e-10 / 7.5e-11 / 1.2e-11, N = 14: 2.4e-9 / 2.1e-10 (about x2.5-3 per two spins), so 1e-12
# would miss 1e-8 at N = 20; 1e-14 costs 1.5x the time of 1e-12 at N = 12.
QUTIP_CURVE_ODE = dict(QUTIP_ODE, atol=1e-14, rtol=1e-14)


def curve_times():
    return [CURVE_T_MAX * k / (CURVE_POINTS - 1) for k in range(CURVE_POINTS)]


def quspin_curve(prop, prob):
    """W at the curve times: the same ExpmMultiplyParallel step exp(-i H dt) applied from time to time."""
    np = prop.np
    import scipy.sparse

    # H0 (zz and z terms) is diagonal in the z basis and in the reflection block's basis (symmetric
    # combinations of a state and its mirror image, which have the same H0): <H0> = sum d |psi|^2
    d = np.ascontiguousarray(prop.H0csr.diagonal().real)
    assert (prop.H0csr - scipy.sparse.diags(d)).count_nonzero() == 0, "H0 is not diagonal in this basis"
    dt = CURVE_DT
    if prop.dt_now != dt:
        prop.expm.set_a(-1j * dt)
        prop.dt_now = dt
    psi = prop.psi0.copy()

    def w_of(v):
        return float(d @ (v.real * v.real + v.imag * v.imag)) - prob.e0

    work = [w_of(psi)]
    for _ in range(1, CURVE_POINTS):
        psi = prop.expm.dot(psi, work_array=prop.work, overwrite_v=True)
        work.append(w_of(psi))
    return work


def qutip_curve_options(tool, ode=None, tol=None):
    if tool == "qutip-krylov":
        opts = dict(QUTIP_KRYLOV)
    else:
        opts = dict(QUTIP_CURVE_ODE, method=ode or QUTIP_CURVE_ODE["method"])
        if tol:
            opts.update(atol=tol, rtol=tol)
    opts.update(store_states=False, progress_bar=False)
    return opts


def qutip_curve(h, h0, psi0, prob, options):
    """W at the curve times from one sesolve call: tlist = the 201 times, e_ops = [H0]."""
    import qutip

    res = qutip.sesolve(h, psi0, curve_times(), e_ops=[h0], options=options)
    return [float(x.real) - prob.e0 for x in res.expect[0]]


def curve_worker(tool, n, ode=None):
    """One timed curve run of a Python tool; prints one JSON line (`ode` may be 'METHOD' or 'METHOD:TOL')."""
    prob = Problem(n)
    # imports are not timed
    import numpy  # noqa: F401
    import scipy.sparse  # noqa: F401

    tol = None
    if ode and ":" in ode:
        ode, tol = ode.split(":")
        tol = float(tol)
    if tool.startswith("qutip"):
        import qutip  # noqa: F401
    else:
        import quspin.basis  # noqa: F401
        import quspin.operators  # noqa: F401
        import quspin.tools.evolution  # noqa: F401
    c0, t0 = time.process_time(), time.perf_counter()
    if tool.startswith("quspin"):
        prop = QuSpinProp(prob, parity=tool == "quspin-parity", dt=CURVE_DT)
        dim = prop.dim
        t1 = time.perf_counter()
        work = quspin_curve(prop, prob)
    else:
        h, h0, psi0 = qutip_operators(prob)
        dim = 2**n
        t1 = time.perf_counter()
        work = qutip_curve(h, h0, psi0, prob, qutip_curve_options(tool, ode, tol))
    t2, c2 = time.perf_counter(), time.process_time()
    print(json.dumps({"tool": tool, "n": n, "work": work, "build_s": t1 - t0, "search_s": t2 - t1,
                      "compute_s": t2 - t0, "cpu_s": c2 - c0, "dim": dim}), flush=True)


def spinbat_curve_cmd(n, path="FILE"):
    return [SPINBAT, "charge", "--n", str(n), "--t-max", f"{CURVE_T_MAX:g}", "--points", str(CURVE_POINTS),
            "--json", path]


def run_spinbat_curve(n):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "charge.json")
        c0, t0 = children_cpu(), time.perf_counter()
        subprocess.run(spinbat_curve_cmd(n, path), check=True, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - t0, children_cpu() - c0
        with open(path) as f:
            rec = json.load(f)
    ser = rec["series"]
    dt = max(abs(a - b) for a, b in zip(ser["t"], curve_times()))
    if len(ser["t"]) != CURVE_POINTS or dt > 1e-12:
        raise RuntimeError(f"spinbat's series times are not the curve times (max difference {dt:g})")
    mp = rec["max_power"]
    return {"tool": "spinbat", "n": n, "work": ser["work"], "compute_s": wall, "process_s": wall, "cpu_s": cpu,
            "run_time_s": rec["run_time_s"], "solver": rec["solver"], "tolerance": rec["tolerance"],
            "error_bound": rec["error_bound"], "power": mp["power"], "time": mp["time"],
            "provenance": rec["provenance"]}


def check_curve(n, tools, ode_tol=None):
    """Every tool's curve vs the exact one (numpy kron construction + scipy.linalg.eigh); use N <= 10."""
    import numpy as np
    import scipy.linalg

    prob = Problem(n)
    px = np.array([[0.0, 1.0], [1.0, 0.0]])
    pz = np.array([[-1.0, 0.0], [0.0, 1.0]])

    def site(op, i):
        out = np.array([[1.0]])
        for k in reversed(range(n)):
            out = np.kron(out, op if k == i else np.eye(2))
        return out

    xs = [site(px, i) for i in range(n)]
    zs = [site(pz, i) for i in range(n)]
    hg = -sum(g * zs[i] @ zs[j] for i, j, g in prob.pairs)
    ev, u = scipy.linalg.eigh(hg + OMEGA * sum(xs))
    h0d = np.diag(hg + B * sum(zs))
    c0 = u[0, :]  # eigenbasis coefficients of all-down (basis index 0)
    ts = np.array(curve_times())
    psis = u @ (np.exp(-1j * np.outer(ev, ts)) * c0[:, None])
    exact = (h0d @ (np.abs(psis) ** 2)) - prob.e0
    print(f"N = {n}: E_0 = {prob.e0:.12f}, exact W(1) = {exact[100]:.13f}, W(2) = {exact[200]:.13f}")
    worst = 0.0
    for tool in tools:
        if tool == "spinbat":
            work = run_spinbat_curve(n)["work"]
        elif tool.startswith("quspin"):
            prop = QuSpinProp(prob, parity=tool == "quspin-parity", checks=True, dt=CURVE_DT)
            work = quspin_curve(prop, prob)
        else:
            h, h0, psi0 = qutip_operators(prob)
            work = qutip_curve(h, h0, psi0, prob, qutip_curve_options(tool, tol=ode_tol))
        dw = float(np.max(np.abs(np.array(work) - exact)))
        worst = max(worst, dw)
        print(f"  {tool:14s} max |W - W_exact| over the {CURVE_POINTS} times = {dw:.1e}")
    return worst


def bench_curve(args):
    n = args.n
    prob = Problem(n)
    tools = args.tools
    info = machine_info()
    load_before = loadavg()
    started = datetime.datetime.now().isoformat(timespec="seconds")
    threads = args.threads or info["nproc"]
    tol_label = f"{args.curve_ode_tol:g}" if args.curve_ode_tol else f"{QUTIP_CURVE_ODE['atol']:g}"
    ode_arg = args.qutip_ode + (f":{args.curve_ode_tol!r}" if args.curve_ode_tol else "")
    results = time_tools(
        args, n, tools, CURVE_TOOLS,
        lambda tool: run_spinbat_curve(n) if tool == "spinbat" else run_worker(
            tool, n, threads, args.timeout, ode_arg if tool == "qutip-sesolve" else None, kind="curve-worker"),
        lambda r: f"W(1) = {r['work'][100]:.13f}, W(2) = {r['work'][-1]:.13f}")
    load_after = loadavg()

    ref, ref_time, ref_cpu = reference(results)
    rows = []
    for tool in tools:
        runs = results[tool]
        ok = [r for r in runs if not r.get("timed_out")]
        if not ok:
            rows.append({"tool": tool, "timed_out": True, "timeout_s": args.timeout})
            continue
        last = ok[-1]
        row = {**common_row(tool, ok, ref_time, ref_cpu), "w1": last["work"][100], "w2": last["work"][-1],
               "w_max": max(last["work"]), "t_w_max": curve_times()[last["work"].index(max(last["work"]))]}
        # every run of a tool must give the same curve
        row["spread_w"] = max(abs(a - b) for r in ok for a, b in zip(r["work"], last["work"]))
        if ref:
            dev = [abs(a - b) for a, b in zip(last["work"], ref["work"])]
            row["max_dw"] = max(dev)
            row["t_max_dw"] = curve_times()[dev.index(row["max_dw"])]
        rows.append(row)

    tol = args.agree
    agree = all(r.get("max_dw", 0.0) <= tol for r in rows if not r.get("timed_out"))
    shared = was_shared(load_before, load_after, threads)

    def setup_of(tool, full=False):
        return CURVE_TOOLS[tool][1 if full else 0].replace("{method}", args.qutip_ode).replace("{tol}", tol_label)

    vers = versions()
    lines = []
    lines.append(f"# Charging curve side by side: spinbat, QuSpin, QuTiP — N = {n}")
    lines.append("")
    lines.append(f"Chain: power law p = 1, alpha = 0, g = 1, omega = 4, B = 1, open, N = {n} "
                 f"(E_0 = {prob.e0:.10f}), charged from all-down. Every tool computes W(t) = <H0>_t - E_0 at the "
                 f"{CURVE_POINTS} times t_k = {CURVE_T_MAX:g} k/{CURVE_POINTS - 1}, k = 0..{CURVE_POINTS - 1} "
                 f"(t = 0, {CURVE_T_MAX / (CURVE_POINTS - 1):g}, ..., {CURVE_T_MAX:g}); spinbat's run also certifies P_max.")
    lines.append("")
    lines.append("| tool | setup | compute wall [s], median | runs [s] | build / propagation [s] | process wall [s] | "
                 "CPU [s] | W(1) [B] | W(2) [B] | max \\|ΔW\\| vs spinbat (201 times) | time / spinbat | CPU / spinbat |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        setup = setup_of(r["tool"])
        if r.get("timed_out"):
            lines.append(f"| {r['tool']} | {setup} | > {r['timeout_s']:g} (stopped at the time limit) | — | — | — | — | — | — | "
                         f"— | > {r['timeout_s'] / ref_time:.0f} | — |")
            continue
        bs = build_cell(r, results)
        lines.append(f"| {r['tool']} | {setup} | {fmt_s(r['median_s'])} | {fmt_runs(r['runs_s'])} | {bs} | "
                     f"{fmt_s(r['process_median_s'])} | {fmt_s(r['cpu_median_s'])} | {r['w1']:.12f} | {r['w2']:.12f} | "
                     f"{r.get('max_dw', 0):.1e} | {r.get('ratio', 1):.1f} | {r.get('cpu_ratio', 1):.1f} |")
    lines.append("")
    lines.append(f"Agreement: every tool within {tol:g} (absolute, on W at all {CURVE_POINTS} times) of spinbat: "
                 f"**{'yes' if agree else 'NO'}**. " + "; ".join(
                     f"{r['tool']}: max |ΔW| = {r['max_dw']:.1e} at t = {r['t_max_dw']:g}, spread over its runs "
                     f"{r['spread_w']:.1e}" for r in rows if not r.get("timed_out") and r["tool"] != "spinbat") + ".")
    if ref:
        spin_runs = results["spinbat"]
        lines.append(f"spinbat: solver {ref['solver']}, tolerance {ref['tolerance']:g} on W, its error bound "
                     f"{ref['error_bound']:.1e}; certified P_max = {ref['power']:.12f} at T* = {ref['time']:.12f} "
                     f"(computed in the same run); max W on the grid {rows[0]['w_max']:.10f} at t = {rows[0]['t_w_max']:g}; "
                     f"spread of W over its {len(spin_runs)} run{'s' if len(spin_runs) > 1 else ''} {rows[0]['spread_w']:.1e}.")
    dims = [r for r in rows if "dim" in r]
    if dims:
        lines.append("Dimensions: " + "; ".join(f"{r['tool']} {r['dim']}" for r in dims) + ".")
    lines.append("")
    lines.append("Setups:")
    for tool in tools:
        lines.append(f"- **{tool}**: " + setup_of(tool, full=True) + ".")
    lines.append("")
    lines.append("Notes:")
    lines.append("- compute wall: for spinbat the wall time of the whole `spinbat charge` process (its own "
                 "`run_time_s` in brackets), which includes the certified P_max search the command always does; "
                 "for the Python tools the time inside the worker process from the first operator construction "
                 "to the last W (imports and interpreter start excluded; \"process wall\" includes them). CPU: "
                 "user + system time of that same span, all threads added (less sensitive than wall time to other "
                 "jobs on the machine). Ratios: medians / spinbat's.")
    lines.append(f"- Runs per tool: {args.reps}" + (f" ({args.slow_reps} for the QuTiP rows)" if args.slow_reps else "")
                 + (f"; time limit per Python run {args.timeout:g} s" if args.timeout else "")
                 + f"; threads: spinbat all cores (rayon), QuSpin OMP_NUM_THREADS = {threads} "
                 "(OMP_WAIT_POLICY=PASSIVE), QuTiP single-threaded (its sparse kernels are; BLAS threads 1).")
    finish(lines, info=info, started=started, load_before=load_before, load_after=load_after, shared=shared,
           ref=ref, vers=vers, run_sh="scripts/compare/run.sh curve", skip=["--curve", "--n"],
           spinbat_line=" ".join(spinbat_curve_cmd(n)), out_md=args.out or os.path.join(HERE, f"results-curve-{n}.md"),
           payload={"n": n, "times": curve_times(), "rows": rows, "runs": results})
    return 0 if agree else 1


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "curve-worker":
        curve_worker(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        ns = [int(x) for x in sys.argv[2:]] or [8]
        tools = ["spinbat"] + [t for t in TOOLS if t != "spinbat"]
        worst = max(check(n, tools) for n in ns)
        print(f"worst relative P_max/T* difference from the exact diagonalisation: {worst:.1e}")
        return 0 if worst < 1e-8 else 1
    if len(sys.argv) > 1 and sys.argv[1] == "check-curve":
        ns = [int(x) for x in sys.argv[2:]] or [8]
        worst = max(check_curve(n, list(CURVE_TOOLS)) for n in ns)
        print(f"worst |W - W_exact| over the curve times: {worst:.1e}")
        return 0 if worst < 1e-8 else 1
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20, help="number of spins (default 20)")
    ap.add_argument("--curve", action="store_true",
                    help=f"curve mode: W(t) at {CURVE_POINTS} times on [0, {CURVE_T_MAX:g}] instead of P_max "
                         "(results-curve-N.md)")
    ap.add_argument("--reps", type=int, default=3, help="timed runs per tool (median reported; default 3)")
    ap.add_argument("--slow-reps", type=int, default=0,
                    help="timed runs for the QuTiP rows (default: --reps), e.g. 1 at large N")
    ap.add_argument("--tools", default=None,
                    help="comma-separated subset of: " + ", ".join(TOOLS) + " (spinbat is the reference; default "
                         "all; with --curve: " + ", ".join(CURVE_DEFAULT_TOOLS) + ", and quspin-full on request)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="stop a Python tool's run after this many seconds (reported as '>')")
    ap.add_argument("--threads", type=int, default=0, help="OpenMP threads of QuSpin (default nproc)")
    ap.add_argument("--qutip-ode", default=QUTIP_ODE["method"],
                    help=f"ODE method of the qutip-sesolve row (default {QUTIP_ODE['method']}; adams, vern9, ...)")
    ap.add_argument("--curve-ode-tol", type=float, default=None,
                    help=f"atol = rtol of qutip-sesolve in curve mode (default {QUTIP_CURVE_ODE['atol']:g})")
    ap.add_argument("--agree", type=float, default=1e-8,
                    help="agreement required (default 1e-8; relative on P_max and T*, absolute on W with --curve)")
    ap.add_argument("--out", default=None,
                    help="Markdown output (default scripts/compare/results-N.md, results-curve-N.md with --curve)")
    args = ap.parse_args()
    known = CURVE_TOOLS if args.curve else TOOLS
    if args.tools is None:
        args.tools = ",".join(CURVE_DEFAULT_TOOLS if args.curve else TOOLS)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in args.tools:
        if t not in known:
            ap.error(f"unknown tool {t}")
    if "spinbat" in args.tools:  # the reference first
        args.tools.remove("spinbat")
        args.tools.insert(0, "spinbat")
    return bench_curve(args) if args.curve else bench(args)

if __name__ == "__main__":
    sys.exit(main())
