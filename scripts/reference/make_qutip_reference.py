#!/usr/bin/env python3
"""Outside oracle for spinbat: charging curves W(t) computed with QuTiP.

How to run (from the repository root; the venv lives in scripts/reference/.venv, which
scripts/reference/.gitignore keeps out of git):

    python3 -m venv scripts/reference/.venv
    scripts/reference/.venv/bin/pip install qutip numpy scipy
    scripts/reference/.venv/bin/python scripts/reference/make_qutip_reference.py

It writes crates/spinbat/tests/data/qutip_reference.json, read by the Rust contract test
crates/spinbat/tests/contract/oracle.rs (`cargo test --release -p spinbat --test contract oracle`).

Physics (docs: docs/physics.md of the repository; hbar = 1):
    H0 = H_B + H_g,  H_B = B sum_i Z_i,
    H_g = - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)],
    charging Hamiltonian H = H_g + V,  V = omega sum_i X_i  (H_B is OFF while charging),
    psi(0) = all spins down,  E_0 = -N B - sum_{i<j} g_ij,
    W(t) = <psi(t)|H0|psi(t)> - E_0,  W'(t) = i <[H, H0]> = 2 Im <H0 psi|H psi>.
Couplings: nearest neighbour g_ij = g if d_ij = 1; power law g_ij = g / d_ij^p; open
boundary d_ij = |i-j|, periodic d_ij = min(|i-j|, N-|i-j|).

Two independent computations per case:
  1. QuTiP: the Hamiltonians from qutip.sigmax/sigmay/sigmaz and qutip.tensor, the state
     evolved by qutip.sesolve (ODE integrator, atol = rtol = 1e-13). QuTiP's sigmaz has
     basis(2, 0) = eigenvalue +1 (up), so "down" is basis(2, 1).
  2. numpy/scipy: the same Hamiltonians assembled from explicit 2x2 Pauli matrices with
     numpy.kron, in spinbat's bit convention (bit i = 1 means site i up, all-down is index
     0), diagonalised with scipy.linalg.eigh; psi(t) = U exp(-i E t) U^T psi0.
The JSON stores the QuTiP values and, per case, the largest |W_qutip - W_exact| and
|W'_qutip - W'_exact|, plus checks that the two Hamiltonians have the same spectrum and
that <psi0|H0|psi0> equals the closed form E_0.

Optionally (a few small cases) the maximal average power P_max = max_T W(T)/T and its
time T* are found from the exact eigendecomposition: a fine grid, certified by the bound
W <= N(2|B| + |omega|) (physics.md), then Brent's method on T W'(T) - W(T) = 0.
"""

import datetime
import json
import math
import os
import platform
import sys

import numpy as np
import scipy
import scipy.linalg
import scipy.optimize

import qutip

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "crates", "spinbat", "tests", "data", "qutip_reference.json"))

SESOLVE_OPTIONS = {"method": "vern9", "atol": 1e-13, "rtol": 1e-13, "nsteps": 10**7}


# ---------------------------------------------------------------- couplings
def coupling_matrix(n, g, kind, p, boundary):
    """Dense symmetric g_ij (zero diagonal)."""
    m = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            d = abs(i - j)
            if boundary == "periodic":
                d = min(d, n - d)
            if kind == "nearest-neighbour":
                m[i, j] = g if d == 1 else 0.0
            elif kind == "power-law":
                m[i, j] = g / float(d) ** p
            else:
                raise ValueError(kind)
    return m


def pairs(gm):
    n = gm.shape[0]
    return [(i, j, gm[i, j]) for i in range(n) for j in range(i + 1, n) if gm[i, j] != 0.0]


# ---------------------------------------------------------------- QuTiP side
def qutip_ops(n):
    ident = qutip.qeye(2)

    def site(op, i):
        ops = [ident] * n
        ops[i] = op
        return qutip.tensor(ops)

    return (
        [site(qutip.sigmax(), i) for i in range(n)],
        [site(qutip.sigmay(), i) for i in range(n)],
        [site(qutip.sigmaz(), i) for i in range(n)],
    )


def qutip_hamiltonians(case, gm):
    n = case["n_sites"]
    xs, ys, zs = qutip_ops(n)
    zero = 0 * qutip.tensor([qutip.qeye(2)] * n)
    h_b = zero + sum((case["b"] * z for z in zs), zero)
    h_g = zero
    for i, j, gij in pairs(gm):
        h_g = h_g - gij * (zs[i] * zs[j] + case["alpha"] * (xs[i] * xs[j] + ys[i] * ys[j]))
    v = zero + sum((case["omega"] * x for x in xs), zero)
    return h_b + h_g, h_g + v  # H0, H


def qutip_run(case, gm):
    n = case["n_sites"]
    h0, h = qutip_hamiltonians(case, gm)
    down = qutip.basis(2, 1)
    assert abs(qutip.expect(qutip.sigmaz(), down) + 1.0) < 1e-15, "basis(2,1) must be spin down"
    psi0 = qutip.tensor([down] * n)
    e0 = -n * case["b"] - sum(gij for _, _, gij in pairs(gm))
    e0_state = qutip.expect(h0, psi0)
    times = np.array(case["times"], dtype=float)
    # sesolve needs the initial time first; t = 0 is prepended if absent
    tlist = times if times[0] == 0.0 else np.concatenate(([0.0], times))
    res = qutip.sesolve(h, psi0, tlist, options=SESOLVE_OPTIONS)
    states = res.states if times[0] == 0.0 else res.states[1:]
    work, rate = [], []
    for psi in states:
        w = qutip.expect(h0, psi) - e0
        # W' = 2 Im <H0 psi | H psi>
        r = 2.0 * (h0 * psi).overlap(h * psi).imag
        work.append(float(np.real(w)))
        rate.append(float(r))
    return work, rate, e0, float(np.real(e0_state)), h0, h


# ---------------------------------------------------------------- numpy side
# spinbat convention: local state index 0 = down (Z = -1), 1 = up (Z = +1); in this
# (down, up) ordering sigma_y = [[0, i], [-i, 0]] (sigma_y|up> = i|down>, sigma_y|down> = -i|up>)
PXs = np.array([[0.0, 1.0], [1.0, 0.0]])
PYs = np.array([[0.0, 1.0j], [-1.0j, 0.0]])
PZ = np.array([[-1.0, 0.0], [0.0, 1.0]])


def np_site(op, i, n):
    # site i is bit i of the basis index: kron order is site n-1 (most significant) ... site 0
    out = np.array([[1.0 + 0j]])
    for k in reversed(range(n)):
        out = np.kron(out, op if k == i else np.eye(2))
    return out


def numpy_hamiltonians(case, gm):
    n = case["n_sites"]
    xs = [np_site(PXs, i, n) for i in range(n)]
    ys = [np_site(PYs, i, n) for i in range(n)]
    zs = [np_site(PZ, i, n) for i in range(n)]
    dim = 2**n
    h_b = case["b"] * sum(zs, np.zeros((dim, dim), complex))
    h_g = np.zeros((dim, dim), complex)
    for i, j, gij in pairs(gm):
        h_g -= gij * (zs[i] @ zs[j] + case["alpha"] * (xs[i] @ xs[j] + ys[i] @ ys[j]))
    v = case["omega"] * sum(xs, np.zeros((dim, dim), complex))
    h0, h = h_b + h_g, h_g + v
    assert np.abs(h0.imag).max() < 1e-14 and np.abs(h.imag).max() < 1e-14, "real symmetric"
    return h0.real, h.real


class Exact:
    """psi(t) = U exp(-iEt) U^T psi0 from scipy.linalg.eigh of the dense real H."""

    def __init__(self, case, gm):
        n = case["n_sites"]
        self.h0, self.h = numpy_hamiltonians(case, gm)
        self.energies, self.u = scipy.linalg.eigh(self.h)
        psi0 = np.zeros(2**n)
        psi0[0] = 1.0  # all down
        self.c0 = self.u.T @ psi0
        self.e0 = -n * case["b"] - sum(gij for _, _, gij in pairs(gm))
        self.e0_state = float(psi0 @ self.h0 @ psi0)

    def psi(self, t):
        return self.u @ (np.exp(-1j * self.energies * t) * self.c0)

    def work(self, t):
        psi = self.psi(t)
        return float(np.real(np.vdot(psi, self.h0 @ psi))) - self.e0

    def rate(self, t):
        psi = self.psi(t)
        return float(2.0 * np.imag(np.vdot(self.h0 @ psi, self.h @ psi)))


def max_power(ex, case):
    """Certified global maximum of W(T)/T: grid until W_bound/T < best, then Brent."""
    n, b, om = case["n_sites"], case["b"], case["omega"]
    bound = n * (2 * abs(b) + abs(om))
    # grid step a quarter of spinbat's pi/(16 Lambda), Lambda the largest single-site scale
    lam = max(abs(om) + (1 + abs(case["alpha"])) * row for row in case["_row_sums"])
    h = math.pi / (64.0 * lam)
    best_p, best_k, k = 0.0, 0, 1
    ws = {0: 0.0}
    while True:
        t = k * h
        w = ex.work(t)
        ws[k] = w
        if w / t > best_p:
            best_p, best_k = w / t, k
        if bound / t < best_p and k > best_k + 2:
            break
        k += 1
    f = lambda t: t * ex.rate(t) - ex.work(t)  # > 0 before the maximum of W/T, < 0 after
    lo, hi = (best_k - 1) * h, (best_k + 1) * h
    lo = max(lo, 1e-3 * h)
    assert f(lo) > 0 > f(hi), "bracket of the maximum of W/T"
    t_star = scipy.optimize.brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    w_star = ex.work(t_star)
    return {"power": w_star / t_star, "time": t_star, "work": w_star, "certified_until": bound / (w_star / t_star)}


# ---------------------------------------------------------------- cases
def times_for(omega, t_max=None, count=8):
    t_max = 3.0 / omega if t_max is None else t_max
    # 8 points spread over (0, t_max], slightly irregular so no grid is privileged
    fr = [0.05, 0.13, 0.27, 0.38, 0.52, 0.66, 0.83, 1.0][:count]
    return [round(f * t_max, 12) for f in fr]


CASES = [
    # (label, n, b, g, alpha, omega, coupling, p, boundary, t_max, want_max_power)
    ("one spin", 1, 1.3, 0.7, 0.5, 2.5, "nearest-neighbour", None, "open", None, True),
    ("two spins, strong Ising coupling", 2, 1.0, 5.0, 0.0, 1.0, "nearest-neighbour", None, "open", 12.0, True),
    ("three spins, LR p=1 ring, XXZ", 3, 1.3, 0.7, 0.5, 2.5, "power-law", 1.0, "periodic", None, True),
    ("four spins, NN ring, alpha<0", 4, 1.3, 0.7, -0.3, 2.5, "nearest-neighbour", None, "periodic", None, True),
    ("four spins, paper Fig. 2 point (Ising)", 4, 1.0, 1.0, 0.0, 4.0, "nearest-neighbour", None, "open", None, False),
    ("five spins, LR p=1.5 open, XXZ", 5, 1.3, 0.7, 0.5, 2.5, "power-law", 1.5, "open", None, False),
    ("six spins, all-to-all p=0, Ising", 6, 1.3, 0.7, 0.0, 2.5, "power-law", 0.0, "open", None, False),
    ("seven spins, NN open, XXX", 7, 1.3, 0.7, 1.0, 2.5, "nearest-neighbour", None, "open", None, False),
    ("eight spins, LR p=2 ring, strong coupling", 8, 1.3, 5.0, -0.3, 1.0, "power-law", 2.0, "periodic", None, False),
    ("nine spins, NN open, strong coupling XXZ", 9, 1.0, 5.0, 0.5, 1.0, "nearest-neighbour", None, "open", None, False),
    ("ten spins, NN ring, XXZ", 10, 1.3, 0.7, 0.5, 2.5, "nearest-neighbour", None, "periodic", None, False),
    ("ten spins, LR p=1 open, Ising", 10, 1.3, 0.7, 0.0, 2.5, "power-law", 1.0, "open", None, False),
]


def main():
    out_cases = []
    worst_w = worst_r = 0.0
    for label, n, b, g, alpha, omega, coupling, p, boundary, t_max, want_pmax in CASES:
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
            "times": times_for(omega, t_max),
        }
        gm = coupling_matrix(n, g, coupling, p, boundary)
        work, rate, e0, e0_q, h0_q, h_q = qutip_run(case, gm)
        ex = Exact(case, gm)
        assert abs(ex.e0 - e0) < 1e-15
        # same spectra although assembled independently (and in different bases)
        spec_q0 = np.linalg.eigvalsh(h0_q.full())
        spec_q = np.linalg.eigvalsh(h_q.full())
        spec_diff = max(
            np.abs(spec_q0 - np.linalg.eigvalsh(ex.h0)).max(),
            np.abs(spec_q - ex.energies).max(),
        )
        assert spec_diff < 1e-11, (label, spec_diff)
        assert abs(e0_q - e0) < 1e-12 and abs(ex.e0_state - e0) < 1e-12, (label, e0, e0_q, ex.e0_state)
        w_exact = [ex.work(t) for t in case["times"]]
        r_exact = [ex.rate(t) for t in case["times"]]
        dw = max(abs(a - c) for a, c in zip(work, w_exact))
        dr = max(abs(a - c) for a, c in zip(rate, r_exact))
        worst_w, worst_r = max(worst_w, dw), max(worst_r, dr)
        case["work"] = work
        case["rate"] = rate
        case["e0"] = e0
        case["max_abs_diff_work_sesolve_vs_exact"] = dw
        case["max_abs_diff_rate_sesolve_vs_exact"] = dr
        case["max_abs_diff_spectrum_qutip_vs_numpy"] = float(spec_diff)
        if want_pmax:
            case["_row_sums"] = [float(np.abs(gm[i]).sum()) for i in range(n)]
            case["max_power"] = max_power(ex, case)
            del case["_row_sums"]
        out_cases.append(case)
        print(f"{label:45s} N={n:2d}  |dW|={dw:.2e}  |dW'|={dr:.2e}  spec={spec_diff:.1e}"
              + (f"  Pmax={case['max_power']['power']:.12f} at T*={case['max_power']['time']:.12f}" if want_pmax else ""),
              flush=True)

    doc = {
        "description": (
            "Outside oracle for spinbat: work W(t) = <psi(t)|H0|psi(t)> - E_0 and rate W'(t) deposited "
            "in spin chains charged from the all-down state by H = H_g + V (V = omega sum X_i, H_B off), "
            "H0 = B sum Z_i - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)], hbar = 1 "
            "(conventions: physics.md). 'work'/'rate' come from qutip.sesolve on Hamiltonians built with "
            "qutip.sigmax/sigmay/sigmaz and qutip.tensor; each value is cross-checked against an "
            "independent numpy/scipy exact diagonalisation (max_abs_diff_* fields). 'max_power' (a few "
            "cases): certified global maximum of W(T)/T from the exact eigendecomposition, refined by "
            "Brent's method on T W'(T) - W(T). Generated by scripts/reference/make_qutip_reference.py."
        ),
        "generator": "scripts/reference/make_qutip_reference.py",
        "qutip_version": qutip.__version__,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "sesolve_options": SESOLVE_OPTIONS,
        "max_abs_diff_work_sesolve_vs_exact": worst_w,
        "max_abs_diff_rate_sesolve_vs_exact": worst_r,
        "cases": out_cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"worst |W_sesolve - W_exact| = {worst_w:.3e}, worst |W'_sesolve - W'_exact| = {worst_r:.3e}")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
