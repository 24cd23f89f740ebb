#!/usr/bin/env python3
"""Outside oracle for spinbat's ergotropy-family figures of merit of the charging battery.

How to run (from the repository root; any venv with qutip, numpy and scipy will do, e.g.
the one of the other reference scripts, which scripts/reference/.gitignore keeps out of git):

    python3 -m venv scripts/reference/.venv
    scripts/reference/.venv/bin/pip install qutip numpy scipy
    scripts/reference/.venv/bin/python scripts/reference/make_ergotropy_reference.py   # ~10 s

It writes crates/spinbat/tests/data/ergotropy_reference.json, for a Rust contract test.

Nothing here uses spinbat. Physics from docs/physics.md (hbar = 1):
    H0 = H_B + H_g,  H_B = B sum_i Z_i  (site i up <=> Z_i = +1),
    H_g = - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)],
    charging Hamiltonian H = H_g + V,  V = omega sum_i X_i  (H_B is OFF while charging),
    psi(0) = all down,  psi(t) = exp(-i H t) psi(0),  E_0 = -N B - sum_{i<j} g_ij,
    nearest neighbour g_ij = g [d_ij = 1]; power law g_ij = g / d_ij^p;
    d_ij = |i - j| (open) or min(|i - j|, N - |i - j|) (periodic).

Quantities, per time, of rho = |psi(t)><psi(t)|, all computed from the DENSITY MATRIX by the
general (mixed-state) definitions with dense linear algebra -- no pure-state shortcuts, so
that they check spinbat's shortcuts:
    E(rho, A) = Tr rho A - sum_k r_k a_k  (r_k eigenvalues of rho decreasing, a_k of A
                increasing; the ergotropy),
    work                 W = Tr rho H0 - E_0,
    rate                 dW/dt = i Tr rho [H, H0],
    ergotropy            E(rho, H0),
    ergotropy_hb         E(rho, H_B),
    local_ergotropy      sum_i E(rho_i, B Z_i), rho_i the one-site reduced state (partial trace),
    locked_ergotropy     ergotropy_hb - local_ergotropy,
    incoherent_ergotropy E(Delta[rho], H_B), Delta[rho] = sum_M P_M rho P_M, P_M the projector
                         on the EIGENSPACE of H_B with M up spins (H_B is degenerate: the
                         eigenspace convention, not a dephasing in the computational basis),
    coherent_ergotropy   ergotropy_hb - incoherent_ergotropy,
    capacity             C(rho, H0) = sum_k r_k (e_{d+1-k} - e_k) (Yang et al., PRL 131,
                         030402 (2023)); E_max - E_min of H0 for a pure state,
    variance_hb, variance_h0   Tr rho A^2 - (Tr rho A)^2 (clipped at 0 against rounding),
    power_bound          2 sqrt(Var_rho H) sqrt(Var_rho H0) (Robertson: |rate| <= power_bound),
and per case e_min, e_max (extreme eigenvalues of H0).

Two independent computations per case:
  1. primary (the values stored): H0, H_B, H from explicit 2x2 Pauli matrices with numpy.kron
     in spinbat's bit convention (bit i of the basis index = 1 means site i up; all-down is
     index 0); psi(t) = scipy.linalg.expm(-i H t) psi0; ergotropies from numpy.linalg.eigvalsh;
     partial traces by reshaping rho to 2N indices and numpy.einsum; Delta[rho] by masking
     rho with [popcount(a) == popcount(b)].
  2. cross-check: QuTiP. Operators from qutip.sigmax/sigmay/sigmaz and qutip.tensor (site 0 is
     the FIRST tensor factor, the opposite bit order), psi(0) = tensor of basis(2, 1);
     qutip.sesolve (vern9, atol = rtol = 1e-13); ergotropy and capacity by constructing the
     passive state sum_k r_k |e_k><e_k| and the active state sum_k r_k |e_{d+1-k}><e_{d+1-k}|
     from Qobj.eigenstates and taking expectation values; rho_i = Qobj.ptrace(i); Delta[rho]
     with projectors assembled from the eigenvectors of the QuTiP H_B grouped by eigenvalue;
     variances with qutip.variance; rate with qutip.commutator.
The JSON stores per case, in `accuracy`, the largest |primary - cross-check| of each quantity
over the case's times (the oracle's stated accuracy); `max_accuracy` is the worst over all.

Assertions (the script fails otherwise): the two constructions of H0 have the same spectrum;
<psi0|H0|psi0> = E_0; closed forms of a qubit with Bloch vector r = (x, y, z) (random mixed
states and every rho_i): E(rho, BZ) = B(z + |r|), E(Delta[rho], BZ) = 2B max(z, 0),
coherent = B(|r| - |z|); for pure states locked = B sum_i (1 - |r_i|); ergotropy == work
whenever all-down is the ground state of H0 (g >= 0, |alpha| <= 1, B > 0), and in general
ergotropy == work + e_0 - e_min (pure state), with e_min < e_0 - 0.01 in the alpha > 1 case
built to have a ground state below all-down;
capacity == e_max - e_min; |rate| <= power_bound; rate agrees with a central difference of W.

Random parameters come from numpy.random.default_rng(SEED) (SEED in the JSON), rounded to
3 decimals; the structural choices (N, coupling, p, boundary, which case has g = 0, alpha = 0,
alpha = 1, alpha > 1) are fixed in CASE_PLAN so that the coverage does not depend on luck.
"""

import os

# small dense matrices: one BLAS thread is much faster than several fighting over shared cores
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time as clock  # noqa: E402
import warnings  # noqa: E402
from functools import reduce  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg  # noqa: E402

warnings.filterwarnings("ignore", message="matplotlib not found")
import qutip  # noqa: E402

SEED = 20261206
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "crates", "spinbat", "tests", "data", "ergotropy_reference.json"))
SESOLVE_OPTIONS = {"method": "vern9", "atol": 1e-13, "rtol": 1e-13, "nsteps": 10**8}
# fractions of the window [0, 2/omega]; irregular so that no grid is privileged
FRACTIONS = [0.0, 0.13, 0.29, 0.48, 0.71, 1.0]
QUANTITIES = [
    "work", "rate", "ergotropy", "ergotropy_hb", "local_ergotropy", "locked_ergotropy",
    "incoherent_ergotropy", "coherent_ergotropy", "capacity", "variance_hb", "variance_h0",
    "power_bound",
]

# (name, N, coupling, p, boundary, alpha rule, g rule, b rule, omega rule); a rule is a fixed
# number or a (low, high) range drawn uniformly.
CASE_PLAN = [
    ("n1-paper", 1, "nearest-neighbour", None, "open", 1.0, 1.0, 1.0, 4.0),
    ("n1-random", 1, "nearest-neighbour", None, "open", (-0.5, 1.5), (0.2, 2.0), (0.5, 1.5), (0.5, 4.0)),
    ("n2-nn-open-xxx", 2, "nearest-neighbour", None, "open", 1.0, (0.2, 2.0), (0.5, 1.5), (0.5, 4.0)),
    ("n3-pl1-periodic-ising", 3, "power-law", 1.0, "periodic", 0.0, (0.2, 2.0), (0.5, 1.5), (0.5, 4.0)),
    ("n4-nn-periodic-free", 4, "nearest-neighbour", None, "periodic", (-0.5, 1.5), 0.0, (0.5, 1.5), (0.5, 4.0)),
    ("n5-pl0.5-open", 5, "power-law", 0.5, "open", (-0.5, 1.0), (0.2, 2.0), (0.5, 1.5), (0.5, 4.0)),
    ("n6-pl2-periodic-neg-alpha", 6, "power-law", 2.0, "periodic", (-0.5, -0.1), (0.2, 2.0), (0.5, 1.5), (0.5, 4.0)),
    ("n7-nn-periodic-alpha-gt-1", 7, "nearest-neighbour", None, "periodic", (1.4, 1.5), (1.5, 2.0), (0.5, 0.6), (0.5, 4.0)),
    ("n8-pl1-open", 8, "power-law", 1.0, "open", (0.0, 1.0), (0.2, 2.0), (0.5, 1.5), (0.5, 4.0)),
]


# ---------------------------------------------------------------- couplings
def distance(i, j, n, boundary):
    d = abs(i - j)
    return min(d, n - d) if boundary == "periodic" else d


def pairs(case):
    n, g = case["n"], case["g"]
    out = []
    for i in range(n):
        for j in range(i + 1, n):
            d = distance(i, j, n, case["boundary"])
            gij = (g if d == 1 else 0.0) if case["coupling"] == "nearest-neighbour" else g / float(d) ** case["p"]
            if gij != 0.0:
                out.append((i, j, gij))
    return out


# ---------------------------------------------------------------- ergotropy by definition
def ergotropy_from_spectra(tr_rho_a, r, a):
    """Tr rho A - sum_k r_k a_k, r decreasing, a increasing."""
    return float(tr_rho_a - np.dot(np.sort(r)[::-1], np.sort(a)))


def ergotropy_dense(rho, a):
    return ergotropy_from_spectra(np.real(np.trace(rho @ a)), np.linalg.eigvalsh(rho), np.linalg.eigvalsh(a))


def capacity_dense(rho, a):
    r = np.sort(np.linalg.eigvalsh(rho))[::-1]
    e = np.sort(np.linalg.eigvalsh(a))
    return float(np.dot(r, e[::-1] - e))


def variance_dense(rho, a):
    m = np.real(np.trace(rho @ a))
    return max(0.0, float(np.real(np.trace(rho @ a @ a)) - m * m))


# ---------------------------------------------------------------- primary: numpy.kron, bit order
I2 = np.eye(2, dtype=complex)
# basis order (bit 0 = down, bit 1 = up)
PZ = np.diag([-1.0, 1.0]).astype(complex)
PX = np.array([[0, 1], [1, 0]], dtype=complex)
PY = np.array([[0, 1j], [-1j, 0]], dtype=complex)  # Y|up> = i|down>, Y|down> = -i|up>


def site_op(op, i, n):
    """op on site i; bit i of the index is the (n-1-i)-th kron factor (site 0 least significant)."""
    factors = [I2] * n
    factors[n - 1 - i] = op
    return reduce(np.kron, factors)


def kron_hamiltonians(case):
    n, b, alpha, omega = case["n"], case["b"], case["alpha"], case["omega"]
    x = [site_op(PX, i, n) for i in range(n)]
    y = [site_op(PY, i, n) for i in range(n)]
    z = [site_op(PZ, i, n) for i in range(n)]
    dim = 1 << n
    h_b = sum((b * zi for zi in z), np.zeros((dim, dim), complex))
    h_g = np.zeros((dim, dim), complex)
    for i, j, gij in pairs(case):
        h_g -= gij * (z[i] @ z[j] + alpha * (x[i] @ x[j] + y[i] @ y[j]))
    v = sum((omega * xi for xi in x), np.zeros((dim, dim), complex))
    return h_b + h_g, h_b, h_g + v


def partial_trace_site(rho, i, n):
    """One-site reduced state of site i, basis (down, up)."""
    k = n - 1 - i  # numpy C-order axis of bit i
    letters = "abcdefghijklmnopqrstuvwxyz"
    row = list(letters[:n])
    col = list(letters[:n])
    col[k] = "Z"
    spec = "".join(row) + "".join(col) + "->" + row[k] + "Z"
    return np.einsum(spec, rho.reshape([2] * (2 * n)))


def bloch(rho1):
    return np.array([np.real(np.trace(rho1 @ p)) for p in (PX, PY, PZ)])


def dephase_hb(rho, n):
    m = np.array([bin(s).count("1") for s in range(1 << n)])
    return np.where(m[:, None] == m[None, :], rho, 0.0)


def primary_quantities(case, rho, h0, h_b, h, e0):
    n, b = case["n"], case["b"]
    zloc = b * PZ
    reduced = [partial_trace_site(rho, i, n) for i in range(n)]
    local = sum(ergotropy_dense(r1, zloc) for r1 in reduced)
    erg_hb = ergotropy_dense(rho, h_b)
    incoh = ergotropy_dense(dephase_hb(rho, n), h_b)
    var_h0, var_h = variance_dense(rho, h0), variance_dense(rho, h)
    q = {
        "work": float(np.real(np.trace(rho @ h0))) - e0,
        "rate": float(np.real(1j * np.trace(rho @ (h @ h0 - h0 @ h)))),
        "ergotropy": ergotropy_dense(rho, h0),
        "ergotropy_hb": erg_hb,
        "local_ergotropy": local,
        "locked_ergotropy": erg_hb - local,
        "incoherent_ergotropy": incoh,
        "coherent_ergotropy": erg_hb - incoh,
        "capacity": capacity_dense(rho, h0),
        "variance_hb": variance_dense(rho, h_b),
        "variance_h0": var_h0,
        "power_bound": 2.0 * np.sqrt(var_h) * np.sqrt(var_h0),
    }
    # closed forms of every one-site state (B > 0 in all cases)
    for r1 in reduced:
        x, y, z = bloch(r1)
        rr = np.sqrt(x * x + y * y + z * z)
        assert abs(ergotropy_dense(r1, zloc) - b * (z + rr)) < 1e-12
    # pure-state identity: locked = B sum_i (1 - |r_i|)
    shortcut = b * sum(1.0 - np.linalg.norm(bloch(r1)) for r1 in reduced)
    assert abs(q["locked_ergotropy"] - shortcut) < 1e-10, (q["locked_ergotropy"], shortcut)
    return q


# ---------------------------------------------------------------- cross-check: QuTiP
def qutip_hamiltonians(case):
    n, b, alpha, omega = case["n"], case["b"], case["alpha"], case["omega"]
    ident = qutip.qeye(2)

    def site(op, i):
        ops = [ident] * n
        ops[i] = op
        return qutip.tensor(ops)

    xs = [site(qutip.sigmax(), i) for i in range(n)]
    ys = [site(qutip.sigmay(), i) for i in range(n)]
    zs = [site(qutip.sigmaz(), i) for i in range(n)]
    zero = 0 * qutip.tensor([ident] * n)
    h_b = sum((b * zi for zi in zs), zero)
    h_g = zero
    for i, j, gij in pairs(case):
        h_g = h_g - gij * (zs[i] * zs[j] + alpha * (xs[i] * xs[j] + ys[i] * ys[j]))
    v = sum((omega * xi for xi in xs), zero)
    return h_b + h_g, h_b, h_g + v


def qutip_ergotropy_capacity(rho, a):
    """Via the passive and the active state built from eigenvectors of A."""
    r = np.sort(np.real(rho.eigenenergies()))[::-1]
    _, vecs = a.eigenstates()  # increasing eigenvalues
    passive = sum((rk * vk.proj() for rk, vk in zip(r, vecs)), 0 * rho)
    active = sum((rk * vk.proj() for rk, vk in zip(r, vecs[::-1])), 0 * rho)
    e_rho = qutip.expect(a, rho)
    e_passive = qutip.expect(a, passive)
    return float(e_rho - e_passive), float(qutip.expect(a, active) - e_passive)


def qutip_eigenspace_projectors(h_b, b):
    vals, vecs = h_b.eigenstates()
    groups = {}
    for e, v in zip(vals, vecs):
        key = int(round((e / b)))  # 2M - N
        groups.setdefault(key, []).append(v.proj())
    return [sum(ps[1:], ps[0]) for ps in groups.values()]


def qutip_quantities(case, psi, h0, h_b, h, e0, projectors):
    n, b = case["n"], case["b"]
    rho = psi.proj()
    local = 0.0
    for i in range(n):
        local += qutip_ergotropy_capacity(rho.ptrace(i), b * qutip.sigmaz())[0]
    erg_h0, cap = qutip_ergotropy_capacity(rho, h0)
    erg_hb = qutip_ergotropy_capacity(rho, h_b)[0]
    dephased = sum((p * rho * p for p in projectors), 0 * rho)
    incoh = qutip_ergotropy_capacity(dephased, h_b)[0]
    var_h0 = max(0.0, float(np.real(qutip.variance(h0, rho))))
    var_h = max(0.0, float(np.real(qutip.variance(h, rho))))
    return {
        "work": float(np.real(qutip.expect(h0, rho))) - e0,
        "rate": float(np.real(1j * qutip.expect(qutip.commutator(h, h0), rho))),
        "ergotropy": erg_h0,
        "ergotropy_hb": erg_hb,
        "local_ergotropy": local,
        "locked_ergotropy": erg_hb - local,
        "incoherent_ergotropy": incoh,
        "coherent_ergotropy": erg_hb - incoh,
        "capacity": cap,
        "variance_hb": max(0.0, float(np.real(qutip.variance(h_b, rho)))),
        "variance_h0": var_h0,
        "power_bound": 2.0 * np.sqrt(var_h) * np.sqrt(var_h0),
    }


# ---------------------------------------------------------------- one-qubit closed forms
def check_qubit_closed_forms(rng):
    """Random mixed qubits through the general dense functions (basis (down, up))."""
    for _ in range(200):
        b = rng.uniform(0.1, 3.0)
        v = rng.normal(size=3)
        v *= rng.uniform(0.0, 1.0) / np.linalg.norm(v)
        if rng.uniform() < 0.2:
            v[2] = 0.0 if rng.uniform() < 0.5 else v[2]
        x, y, z = v
        rho = 0.5 * (I2 + x * PX + y * PY + z * PZ)
        assert np.allclose(bloch(rho), v, atol=1e-15)
        rr = np.linalg.norm(v)
        e = ergotropy_dense(rho, b * PZ)
        inc = ergotropy_dense(dephase_hb(rho, 1), b * PZ)
        assert abs(e - b * (z + rr)) < 1e-13, (e, b * (z + rr))
        assert abs(inc - 2.0 * b * max(z, 0.0)) < 1e-13
        assert abs((e - inc) - b * (rr - abs(z))) < 1e-13


# ---------------------------------------------------------------- main
def draw(rng, rule):
    if isinstance(rule, tuple):
        return round(float(rng.uniform(*rule)), 3)
    return float(rule)


def main():
    start = clock.time()
    rng = np.random.default_rng(SEED)
    check_qubit_closed_forms(np.random.default_rng(SEED + 1))
    cases = []
    for name, n, coupling, p, boundary, a_rule, g_rule, b_rule, w_rule in CASE_PLAN:
        case = {
            "name": name, "n": n, "coupling": coupling, "p": p, "boundary": boundary,
            "alpha": draw(rng, a_rule), "g": draw(rng, g_rule), "b": draw(rng, b_rule), "omega": draw(rng, w_rule),
        }
        cases.append(case)

    out_cases = []
    worst = {q: 0.0 for q in QUANTITIES}
    for case in cases:
        t0 = clock.time()
        n = case["n"]
        e0 = -n * case["b"] - sum(gij for _, _, gij in pairs(case))
        h0, h_b, h = kron_hamiltonians(case)
        spec = np.linalg.eigvalsh(h0)
        e_min, e_max = float(spec[0]), float(spec[-1])
        q_h0, q_hb, q_h = qutip_hamiltonians(case)
        assert np.max(np.abs(np.sort(q_h0.eigenenergies()) - spec)) < 5e-13
        assert np.max(np.abs(np.sort(q_h.eigenenergies()) - np.linalg.eigvalsh(h))) < 5e-13
        psi0 = np.zeros(1 << n, complex)
        psi0[0] = 1.0
        assert abs(np.real(np.vdot(psi0, h0 @ psi0)) - e0) < 1e-12
        q_psi0 = qutip.tensor([qutip.basis(2, 1)] * n)
        assert abs(qutip.expect(q_h0, q_psi0) - e0) < 1e-12
        times = [f * 2.0 / case["omega"] for f in FRACTIONS]
        res = qutip.sesolve(q_h, q_psi0, times, options=SESOLVE_OPTIONS)
        projectors = qutip_eigenspace_projectors(q_hb, case["b"])
        ground_is_all_down = case["g"] >= 0 and abs(case["alpha"]) <= 1 and case["b"] > 0

        def work_at(t):
            psi = scipy.linalg.expm(-1j * h * t) @ psi0
            return float(np.real(np.vdot(psi, h0 @ psi))) - e0

        acc = {q: 0.0 for q in QUANTITIES}
        points = []
        for t, q_psi in zip(times, res.states):
            psi = scipy.linalg.expm(-1j * h * t) @ psi0
            rho = np.outer(psi, psi.conj())
            prim = primary_quantities(case, rho, h0, h_b, h, e0)
            chk = qutip_quantities(case, q_psi, q_h0, q_hb, q_h, e0, projectors)
            for k in QUANTITIES:
                acc[k] = max(acc[k], abs(prim[k] - chk[k]))
            # physics sanity checks on the primary values
            assert abs(prim["capacity"] - (e_max - e_min)) < 1e-10
            assert abs(prim["rate"]) <= prim["power_bound"] + 1e-10
            if ground_is_all_down:
                assert abs(prim["ergotropy"] - prim["work"]) < 1e-10, (case["name"], t)
            assert abs(prim["ergotropy"] - (prim["work"] + e0 - e_min)) < 1e-10
            hstep = 1e-5
            if t > hstep:
                fd = (work_at(t + hstep) - work_at(t - hstep)) / (2 * hstep)
                assert abs(fd - prim["rate"]) < 1e-6 * max(1.0, abs(prim["rate"])), (fd, prim["rate"])
            points.append({"t": t, **prim})
        if case["name"].endswith("alpha-gt-1"):
            assert e_min < e0 - 0.01, "alpha > 1 case should have a ground state below all-down"
            # pure state: ergotropy = <H0> - e_min = work + (e_0 - e_min) > work
            assert min(pt["ergotropy"] - pt["work"] for pt in points) > 0.01
        for k in QUANTITIES:
            worst[k] = max(worst[k], acc[k])
        out_cases.append({
            "name": case["name"], "n": n, "b": case["b"], "g": case["g"], "alpha": case["alpha"],
            "omega": case["omega"], "coupling": case["coupling"], "p": case["p"], "boundary": case["boundary"],
            "e_0": e0, "e_min": e_min, "e_max": e_max,
            "ground_state_is_all_down": bool(abs(e_min - e0) < 1e-12),
            "accuracy": acc, "points": points,
        })
        print(f"{case['name']:28s} N={n} B={case['b']} g={case['g']} alpha={case['alpha']} omega={case['omega']} "
              f"max|diff|={max(acc.values()):.2e}  ({clock.time() - t0:.1f} s)", flush=True)

    doc = {
        "description": (
            "Outside oracle for spinbat's ergotropy-family figures of merit of chains N = 1..8 charged from "
            "all-down by H = H_g + V (conventions: physics.md and the 'conventions' field). Every quantity is "
            "computed from the density matrix rho = |psi(t)><psi(t)| by its general (mixed-state) definition "
            "with dense linear algebra. Stored values: numpy.kron Hamiltonians (bit i = 1: site i up), "
            "psi(t) = scipy.linalg.expm(-iHt) psi0. Cross-check: QuTiP tensor Hamiltonians, sesolve (vern9, "
            "atol = rtol = 1e-13), ergotropy via explicit passive/active states, Qobj.ptrace, H_B eigenspace "
            "projectors from QuTiP eigenvectors; per case 'accuracy' is the largest |stored - cross-check| of "
            "each quantity. Generated by scripts/reference/make_ergotropy_reference.py; no spinbat code used."
        ),
        "conventions": {
            "hamiltonians": "hbar = 1; H0 = B sum_i Z_i - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)]; "
                            "H_B = B sum_i Z_i; charging H = H_g + V, V = omega sum_i X_i (B off); Z_i = +1 up",
            "couplings": "nearest-neighbour g_ij = g [d_ij = 1]; power-law g_ij = g / d_ij^p; d_ij = |i-j| (open) "
                         "or min(|i-j|, N-|i-j|) (periodic)",
            "state": "psi(0) = all down, psi(t) = exp(-iHt) psi(0), rho = |psi(t)><psi(t)|",
            "e_0": "<down..down|H0|down..down> = -N B - sum_{i<j} g_ij",
            "ergotropy(rho, A)": "Tr rho A - sum_k r_k a_k, r_k eigenvalues of rho decreasing, a_k of A increasing",
            "work": "Tr rho H0 - e_0",
            "rate": "dW/dt = i Tr rho [H, H0]",
            "ergotropy": "ergotropy(rho, H0)",
            "ergotropy_hb": "ergotropy(rho, H_B)",
            "local_ergotropy": "sum_i ergotropy(rho_i, B Z_i), rho_i the one-site partial trace",
            "locked_ergotropy": "ergotropy_hb - local_ergotropy",
            "incoherent_ergotropy": "ergotropy(Delta[rho], H_B), Delta[rho] = sum_M P_M rho P_M, P_M projector on "
                                    "the H_B eigenspace with M up spins (eigenspace, not eigenbasis, dephasing)",
            "coherent_ergotropy": "ergotropy_hb - incoherent_ergotropy",
            "capacity": "sum_k r_k (e_{d+1-k} - e_k), e_k eigenvalues of H0 increasing (Yang et al. PRL 131, "
                        "030402 (2023))",
            "variance_hb": "Tr rho H_B^2 - (Tr rho H_B)^2 (clipped at 0)",
            "variance_h0": "Tr rho H0^2 - (Tr rho H0)^2 (clipped at 0)",
            "power_bound": "2 sqrt(Var_rho H) sqrt(Var_rho H0), Robertson bound on |rate|",
            "e_min/e_max": "extreme eigenvalues of H0",
            "times": "fractions " + ", ".join(str(f) for f in FRACTIONS) + " of 2/omega",
        },
        "generator": "scripts/reference/make_ergotropy_reference.py",
        "seed": SEED,
        "qutip_version": qutip.__version__,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "sesolve_options": SESOLVE_OPTIONS,
        "max_accuracy": worst,
        "run_seconds": round(clock.time() - start, 1),
        "cases": out_cases,
    }
    # indent=1 like the other reference files, but one line per time point (keeps it small)
    lines = {}
    for i, c in enumerate(out_cases):
        for j, pt in enumerate(c["points"]):
            key = f"@point-{i}-{j}@"
            lines[key] = json.dumps(pt)
            c["points"][j] = key
    text = json.dumps(doc, indent=1)
    for key, line in lines.items():
        text = text.replace(f'"{key}"', line)
    assert json.loads(text)["cases"][-1]["points"][-1] == json.loads(lines[key])
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print("worst |diff| per quantity: " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    print(f"{clock.time() - start:.1f} s; wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
