#!/usr/bin/env python3
"""Second outside oracle for spinbat: random chains up to N = 18 (QuTiP and QuSpin).

How to run (from the repository root; the venv is kept out of git by .gitignore):

    python3 -m venv scripts/reference/.venv
    scripts/reference/.venv/bin/pip install qutip quspin numpy scipy
    scripts/reference/.venv/bin/python scripts/reference/make_large_reference.py   # a few minutes

It writes crates/spinbat/tests/data/large_reference.json and the coupling-matrix files
crates/spinbat/tests/data/oracle_matrix_n*.txt, read by the contract test
crates/spinbat/tests/contract/oracle_large.rs
(`cargo test --release -p spinbat --test contract oracle_large`).

Nothing here uses spinbat. The Hamiltonians are built from the definitions in physics.md
(hbar = 1):
    H0 = B sum_i Z_i - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)],
    H  = H_g + V,  V = omega sum_i X_i  (H_B off while charging),
    psi(0) = all down,  E_0 = -N B - sum_{i<j} g_ij,
    W(t) = <psi(t)|H0|psi(t)> - E_0,  W'(t) = 2 Im <H0 psi|H psi>,
    nearest neighbour g_ij = g [d_ij = 1], power law g_ij = g / d_ij^p,
    d_ij = |i - j| (open) or min(|i - j|, N - |i - j|) (periodic), matrix g_ij = g M_ij.

Two independent computations per case:
  * primary, whose values the JSON stores as `work` and `rate`:
      - N <= 12: QuTiP. Operators from qutip.sigmax/sigmay/sigmaz and qutip.tensor;
        psi(0) = tensor of basis(2, 1) (the -1 eigenvector of sigmaz); qutip.sesolve
        (vern9, atol = rtol = 1e-13).
      - N >= 14: QuSpin. spin_basis_1d(N, pauli=1) (Pauli matrices, not spin-1/2), operator
        strings "zz", "xx", "yy", "z", "x" in quspin.operators.hamiltonian; psi(0) the basis
        state "00...0" (checked to have <Z_i> = -1 and energy E_0); propagation with
        quspin.tools.evolution.expm_multiply_parallel, step by step between sample times.
  * cross-check: the same Hamiltonians assembled here as scipy.sparse matrices directly
    from the action of the Pauli strings on bit strings (bit i = 1: site i up), propagated
    with scipy.sparse.linalg.expm_multiply (double-precision truncation). The JSON stores
    per case the largest |W_primary - W_check| and |W'_primary - W'_check|: the oracle's
    stated accuracy.
Maximal power (the cases N <= 12 that ask for it): certified search on the cross-check
propagator: a grid of step pi/(64 Lambda) (Lambda the largest single-site energy scale)
continued until the bound N(2|B| + |omega|)/T falls below the best power found, then
Brent's method (scipy.optimize.brentq, xtol 1e-14) on T W'(T) - W(T) = 0; W''(T*) (a
central difference of the exact W') is stored so that a test can turn an error in
T W' - W into an error in T*.

Random parameters come from numpy.random.default_rng(SEED) (SEED recorded in the JSON),
rounded to 3 decimals; alpha is drawn from [-1.5, 1.5].
"""

import datetime
import json
import math
import os
import platform
import sys
import time as clock
import warnings

import numpy as np
import scipy
import scipy.optimize
import scipy.sparse
import scipy.sparse.linalg

warnings.filterwarnings("ignore", message="matplotlib not found")
import qutip  # noqa: E402
import quspin  # noqa: E402
from quspin.basis import spin_basis_1d  # noqa: E402
from quspin.operators import hamiltonian  # noqa: E402
from quspin.tools.evolution import expm_multiply_parallel  # noqa: E402

SEED = 20261204
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "crates", "spinbat", "tests", "data"))
OUT = os.path.join(DATA, "large_reference.json")
SESOLVE_OPTIONS = {"method": "vern9", "atol": 1e-13, "rtol": 1e-13, "nsteps": 10**8}
# irregular fractions of the window, so that no grid is privileged
FRACTIONS = [0.04, 0.11, 0.23, 0.37, 0.52, 0.68, 0.85, 1.0]


# ---------------------------------------------------------------- couplings
def distance(i, j, n, boundary):
    d = abs(i - j)
    return min(d, n - d) if boundary == "periodic" else d


def coupling_matrix(case):
    n, g = case["n_sites"], case["g"]
    if case["coupling"] == "matrix":
        return g * np.array(case["_matrix"])
    m = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                d = distance(i, j, n, case["boundary"])
                if case["coupling"] == "nearest-neighbour":
                    m[i, j] = g if d == 1 else 0.0
                else:
                    m[i, j] = g / float(d) ** case["p"]
    return m


def pairs(gm):
    n = gm.shape[0]
    return [(i, j, float(gm[i, j])) for i in range(n) for j in range(i + 1, n) if gm[i, j] != 0.0]


# ---------------------------------------------------------------- cross-check: bit strings
def bit_hamiltonians(case, gm):
    """H0 and H as scipy CSR matrices from the action of Pauli strings on basis states s
    (bit i of s = 1 means site i up; Z_i = +1 up): Z_i Z_j diagonal, X_i X_j + Y_i Y_j
    maps an anti-parallel pair to the flipped pair with amplitude 2, X_i flips bit i."""
    n = case["n_sites"]
    dim = 1 << n
    s = np.arange(dim, dtype=np.int64)
    z = [((s >> i) & 1) * 2.0 - 1.0 for i in range(n)]
    diag_b = case["b"] * sum(z)
    diag_g = np.zeros(dim)
    rows, cols, vals = [], [], []
    for i, j, gij in pairs(gm):
        diag_g -= gij * z[i] * z[j]
        anti = z[i] != z[j]
        src = s[anti]
        rows.append(src ^ ((1 << i) | (1 << j)))
        cols.append(src)
        vals.append(np.full(src.size, -2.0 * case["alpha"] * gij))
    hg_off = scipy.sparse.csr_matrix(
        (np.concatenate(vals) if vals else np.zeros(0), (np.concatenate(rows) if rows else np.zeros(0, int), np.concatenate(cols) if cols else np.zeros(0, int))),
        shape=(dim, dim),
    )
    vr = np.concatenate([s ^ (1 << i) for i in range(n)])
    vc = np.concatenate([s for _ in range(n)])
    v = scipy.sparse.csr_matrix((np.full(vr.size, case["omega"]), (vr, vc)), shape=(dim, dim))
    h_g = hg_off + scipy.sparse.diags(diag_g)
    return (h_g + scipy.sparse.diags(diag_b)).tocsr(), (h_g + v).tocsr()


class BitPropagator:
    """psi(t) by scipy.sparse.linalg.expm_multiply, from the nearest cached earlier state."""

    def __init__(self, case, gm):
        self.h0, self.h = bit_hamiltonians(case, gm)
        dim = self.h.shape[0]
        psi0 = np.zeros(dim, complex)
        psi0[0] = 1.0  # all down
        self.mh = (-1j * self.h).tocsr()
        self.cache = {0.0: psi0}
        self.e0 = -case["n_sites"] * case["b"] - sum(gij for _, _, gij in pairs(gm))
        self.e0_state = float(np.real(np.vdot(psi0, self.h0 @ psi0)))

    def psi(self, t, keep=False):
        t0 = max(k for k in self.cache if k <= t)
        out = self.cache[t0] if t == t0 else scipy.sparse.linalg.expm_multiply(self.mh * (t - t0), self.cache[t0])
        if keep:
            self.cache[t] = out
        return out

    def forget(self, keep_times):
        self.cache = {k: v for k, v in self.cache.items() if k in keep_times or k == 0.0}

    def work_rate(self, t, keep=False):
        psi = self.psi(t, keep)
        h0psi = self.h0 @ psi
        w = float(np.real(np.vdot(psi, h0psi))) - self.e0
        r = float(2.0 * np.imag(np.vdot(h0psi, self.h @ psi)))
        return w, r


# ---------------------------------------------------------------- primary: QuTiP
def qutip_run(case, gm, e0):
    n = case["n_sites"]
    ident = qutip.qeye(2)

    def site(op, i):
        ops = [ident] * n
        ops[i] = op
        return qutip.tensor(ops)

    xs = [site(qutip.sigmax(), i) for i in range(n)]
    ys = [site(qutip.sigmay(), i) for i in range(n)]
    zs = [site(qutip.sigmaz(), i) for i in range(n)]
    zero = 0 * qutip.tensor([ident] * n)
    h_b = sum((case["b"] * zi for zi in zs), zero)
    h_g = zero
    for i, j, gij in pairs(gm):
        h_g = h_g - gij * (zs[i] * zs[j] + case["alpha"] * (xs[i] * xs[j] + ys[i] * ys[j]))
    v = sum((case["omega"] * xi for xi in xs), zero)
    h0, h = h_b + h_g, h_g + v
    down = qutip.basis(2, 1)
    assert abs(qutip.expect(qutip.sigmaz(), down) + 1.0) < 1e-15
    psi0 = qutip.tensor([down] * n)
    assert abs(qutip.expect(h0, psi0) - e0) < 1e-12, "QuTiP <psi0|H0|psi0> vs closed-form E_0"
    tlist = np.concatenate(([0.0], case["times"]))
    res = qutip.sesolve(h, psi0, tlist, options=SESOLVE_OPTIONS)
    work, rate = [], []
    for psi in res.states[1:]:
        work.append(float(np.real(qutip.expect(h0, psi))) - e0)
        rate.append(float(2.0 * (h0 * psi).overlap(h * psi).imag))
    return work, rate


# ---------------------------------------------------------------- primary: QuSpin
def quspin_run(case, gm, e0):
    n = case["n_sites"]
    basis = spin_basis_1d(n, pauli=1)
    pr = pairs(gm)
    zz = [[-gij, i, j] for i, j, gij in pr]
    xy = [[-case["alpha"] * gij, i, j] for i, j, gij in pr]
    fld = [[case["b"], i] for i in range(n)]
    drv = [[case["omega"], i] for i in range(n)]
    kw = dict(basis=basis, dtype=np.complex128, check_symm=False, check_herm=False, check_pcon=False)
    h_g_terms = [["zz", zz], ["xx", xy], ["yy", xy]]
    h0 = hamiltonian(h_g_terms + [["z", fld]], [], **kw)
    h = hamiltonian(h_g_terms + [["x", drv]], [], **kw)
    i0 = basis.index("0" * n)
    psi0 = np.zeros(basis.Ns, complex)
    psi0[i0] = 1.0
    for i in range(n):
        zi = hamiltonian([["z", [[1.0, i]]]], [], **kw)
        assert abs(zi.expt_value(psi0) + 1.0) < 1e-14, "QuSpin state '0...0' must be all down"
    assert abs(h0.expt_value(psi0) - e0) < 1e-12, "QuSpin <psi0|H0|psi0> vs closed-form E_0"
    hc, h0c = h.tocsr(), h0.tocsr()
    psi, t_prev = psi0, 0.0
    work, rate = [], []
    for t in case["times"]:
        step = expm_multiply_parallel(hc, a=-1j * (t - t_prev), dtype=np.complex128)
        psi = step.dot(psi)
        t_prev = t
        h0psi = h0c @ psi
        work.append(float(np.real(np.vdot(psi, h0psi))) - e0)
        rate.append(float(2.0 * np.imag(np.vdot(h0psi, hc @ psi))))
    return work, rate


# ---------------------------------------------------------------- maximal power
def max_power(prop, case, gm):
    n, b, om = case["n_sites"], case["b"], case["omega"]
    bound = n * (2 * abs(b) + abs(om))
    lam = max(abs(om) + (1 + 2 * abs(case["alpha"])) * float(np.abs(gm[i]).sum()) for i in range(n))
    h = math.pi / (64.0 * lam)
    best_p, best_k, k = 0.0, 0, 1
    while True:
        t = k * h
        w, _ = prop.work_rate(t, keep=True)
        prop.forget({t, best_k * h, (best_k - 1) * h})
        if w / t > best_p:
            best_p, best_k = w / t, k
        if bound / t < best_p and k > best_k + 2:
            break
        k += 1
    lo, hi = max((best_k - 1) * h, 1e-3 * h), (best_k + 1) * h
    prop.work_rate(lo, keep=True)

    def f(t):  # > 0 before the maximum of W/T, < 0 after
        w, r = prop.work_rate(t)
        return t * r - w

    assert f(lo) > 0 > f(hi), "bracket of the maximum of W/T"
    t_star = scipy.optimize.brentq(f, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    w_star, _ = prop.work_rate(t_star)
    d = 1e-4 * t_star
    w2 = (prop.work_rate(t_star + d)[1] - prop.work_rate(t_star - d)[1]) / (2 * d)
    return {
        "power": w_star / t_star,
        "time": t_star,
        "work": w_star,
        "second_derivative_work": w2,
        "grid_step": h,
        "certified_until": k * h,
    }


# ---------------------------------------------------------------- cases
def random_matrix(rng, n):
    m = np.round(rng.uniform(-1.0, 1.0, size=(n, n)), 3)
    m = np.triu(m, 1)
    return m + m.T


def draw(rng, label, n, coupling, boundary, p=None, strong=False, pmax=False):
    b = round(float(rng.uniform(0.5, 1.5)), 3)
    g = round(float(rng.uniform(2.0, 4.0) if strong else rng.uniform(0.2, 1.5)), 3)
    alpha = round(float(rng.uniform(-1.5, 1.5)), 3)
    omega = round(float(rng.uniform(0.6, 1.2) if strong else rng.uniform(0.8, 3.0)), 3)
    case = {
        "label": label,
        "n_sites": n,
        "b": b,
        "g": g,
        "alpha": alpha,
        "omega": omega,
        "coupling": coupling,
        "p": p,
        "boundary": boundary,
        "times": [round(f * 10.0 / omega, 12) for f in FRACTIONS],
        "_pmax": pmax,
    }
    if coupling == "matrix":
        m = random_matrix(rng, n)
        name = f"oracle_matrix_n{n}.txt"
        case["matrix_file"] = name
        case["_matrix"] = m.tolist()
        with open(os.path.join(DATA, name), "w") as fh:
            fh.write(f"# {n} x {n} coupling matrix M (g_ij = g M_ij), seed {SEED}; "
                     "written by scripts/reference/make_large_reference.py\n")
            for row in m:
                fh.write(" ".join(repr(float(x)) for x in row) + "\n")
    return case


def cases(rng):
    return [
        draw(rng, "N=5 NN open", 5, "nearest-neighbour", "open", pmax=True),
        draw(rng, "N=6 power law p=0.5 ring", 6, "power-law", "periodic", p=0.5, pmax=True),
        draw(rng, "N=7 random matrix", 7, "matrix", "open", pmax=True),
        draw(rng, "N=8 power law p=3 open", 8, "power-law", "open", p=3.0, pmax=True),
        draw(rng, "N=9 NN ring, strong coupling", 9, "nearest-neighbour", "periodic", strong=True),
        draw(rng, "N=10 power law p=1.5 ring", 10, "power-law", "periodic", p=1.5, pmax=True),
        draw(rng, "N=11 power law p=2 open", 11, "power-law", "open", p=2.0, pmax=True),
        draw(rng, "N=12 NN ring", 12, "nearest-neighbour", "periodic", pmax=True),
        draw(rng, "N=12 power law p=1 ring", 12, "power-law", "periodic", p=1.0),
        draw(rng, "N=14 random matrix", 14, "matrix", "open"),
        draw(rng, "N=14 power law p=3 open", 14, "power-law", "open", p=3.0),
        draw(rng, "N=16 power law p=1.5 ring", 16, "power-law", "periodic", p=1.5),
        draw(rng, "N=18 NN ring", 18, "nearest-neighbour", "periodic"),
    ]


def main():
    rng = np.random.default_rng(SEED)
    out_cases = []
    worst_w = worst_r = 0.0
    start = clock.time()
    for case in cases(rng):
        t0 = clock.time()
        gm = coupling_matrix(case)
        check = BitPropagator(case, gm)
        e0 = check.e0
        assert abs(check.e0_state - e0) < 1e-12
        primary = "qutip" if case["n_sites"] <= 12 else "quspin"
        work, rate = (qutip_run if primary == "qutip" else quspin_run)(case, gm, e0)
        w_chk, r_chk = [], []
        for t in case["times"]:
            w, r = check.work_rate(t, keep=True)
            w_chk.append(w)
            r_chk.append(r)
        check.forget(set())
        dw = max(abs(a - c) for a, c in zip(work, w_chk))
        dr = max(abs(a - c) for a, c in zip(rate, r_chk))
        worst_w, worst_r = max(worst_w, dw), max(worst_r, dr)
        case["primary"] = primary
        case["work"] = work
        case["rate"] = rate
        case["e0"] = e0
        case["max_abs_diff_work"] = dw
        case["max_abs_diff_rate"] = dr
        if case.pop("_pmax"):
            case["max_power"] = max_power(check, case, gm)
        case.pop("_matrix", None)
        out_cases.append(case)
        mp = case.get("max_power")
        print(f"{case['label']:34s} {primary:6s} |dW|={dw:.2e} |dW'|={dr:.2e}"
              + (f" Pmax={mp['power']:.12f} T*={mp['time']:.12f}" if mp else "")
              + f"  ({clock.time() - t0:.1f} s)", flush=True)

    doc = {
        "description": (
            "Second outside oracle for spinbat: W(t) = <psi(t)|H0|psi(t)> - E_0 and W'(t) for random chains "
            "N = 5..18 charged from all-down by H = H_g + V (conventions: physics.md). 'work'/'rate' come from "
            "QuTiP (sesolve, N <= 12) or QuSpin (spin_basis_1d pauli=1, expm_multiply_parallel, N >= 14), "
            "cross-checked against scipy.sparse.linalg.expm_multiply on Hamiltonians built independently from "
            "bit-string Pauli actions (max_abs_diff_*: the stated accuracy). 'max_power': certified grid search "
            "plus Brent on T W' - W. Generated by scripts/reference/make_large_reference.py; no spinbat code used."
        ),
        "generator": "scripts/reference/make_large_reference.py",
        "seed": SEED,
        "qutip_version": qutip.__version__,
        "quspin_version": quspin.__version__,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "sesolve_options": SESOLVE_OPTIONS,
        "max_abs_diff_work": worst_w,
        "max_abs_diff_rate": worst_r,
        "run_seconds": round(clock.time() - start, 1),
        "cases": out_cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"worst |dW| = {worst_w:.3e}, worst |dW'| = {worst_r:.3e}; {clock.time() - start:.0f} s")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
