#!/usr/bin/env python3
"""Outside oracle for spinbat's density-matrix solver: W(t) of the open battery from QuTiP
mesolve, checked against an independent dense superoperator.

How to run (from the repository root, with the QuTiP venv of scripts/compare/run.sh):

    scripts/compare/.venv/bin/python scripts/reference/make_noise_reference.py

It writes crates/spinbat/tests/data/noise_reference.json, read by the Rust contract test
crates/spinbat/tests/contract/open.rs (`cargo test --release -p spinbat --test contract open`).

Physics (docs/physics.md, "The open battery"; hbar = 1, energies in units of B):
    H0 = B sum_i Z_i - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)],
    charging H = H_g + V, V = omega sum_i X_i, rho(0) = all down, E_0 = -N B - sum g_ij,
    d rho/dt = -i[H, rho] + sum_k (L_k rho L_k^+ - {L_k^+ L_k, rho}/2) with
      dephasing  L_i = sqrt(gamma_phi) Z_i,
      decay      L_i = sqrt(gamma (n+1)) sigma_i^-,  L_i = sqrt(gamma n) sigma_i^+ (thermal),
                 n = 1/(exp(2B/T) - 1), sigma^- = |down><up|,
      collective L = sqrt(Gamma) sum_i sigma_i^-,
    W(t) = Tr((H0 - E_0) rho(t)).

Two independent computations per case:
  1. QuTiP mesolve (vern9, atol = rtol = 1e-12) with operators from qutip.sigmax/sigmaz/
     sigmam and qutip.tensor (QuTiP's basis(2, 0) is up, so down is basis(2, 1), and
     sigmam = |down><up| there).
  2. numpy: the 4^N x 4^N superoperator in spinbat's bit convention (bit i = 1: site i up)
     from explicit 2x2 matrices and numpy.kron, vec(A X B) = (B^T kron A) vec(X) for
     column-major vec; rho(t_k) by repeated products with scipy.linalg.expm(L dt).
The JSON stores the QuTiP values and, per case, the largest |W_qutip - W_dense|: the
accuracy the Rust test holds spinbat to.

Storage cases (`storage_cases`, read by crates/spinbat/tests/contract/storage.rs): charge for
T under H_g + V (noise while charging where noise_during is charge or both), then hold under
H0 (noise in storage where noise_during is storage or both) for the storage times s. Per time:
W(s) = Tr((H0 - E_0) rho), the ergotropy for H0 and for H_B,
    E(rho, H) = Tr(H rho) - sum_k r_k^(descending) e_k^(ascending),
from QuTiP's states (mesolve twice: the charge, then storage from its end state) and from the
numpy superoperator; both basis-independent.
"""

import datetime
import json
import os
import platform

import numpy as np
import qutip
import scipy
import scipy.linalg

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "crates", "spinbat", "tests", "data", "noise_reference.json"))
OPTIONS = {"method": "vern9", "atol": 1e-12, "rtol": 1e-12, "nsteps": 10**7}

CASES = [
    # name, n, coupling (nn | p), alpha, g, omega, b, noise
    dict(name="one spin, decay", n=1, p=None, alpha=0.0, g=0.0, omega=1.0, b=1.0,
         noise=dict(dephasing=0.0, decay=0.3, temperature=None, collective_decay=0.0)),
    dict(name="LR p=1 Ising N=3, dephasing", n=3, p=1.0, alpha=0.0, g=1.0, omega=2.0, b=1.0,
         noise=dict(dephasing=0.2, decay=0.0, temperature=None, collective_decay=0.0)),
    dict(name="NN XXZ N=4, thermal bath", n=4, p="nn", alpha=0.5, g=0.8, omega=1.5, b=1.0,
         noise=dict(dephasing=0.0, decay=0.1, temperature=1.5, collective_decay=0.0)),
    dict(name="LR p=1 Ising N=4, collective decay", n=4, p=1.0, alpha=0.0, g=1.0, omega=4.0, b=1.0,
         noise=dict(dephasing=0.0, decay=0.0, temperature=None, collective_decay=0.2)),
    dict(name="LR p=2 XXZ N=5, dephasing and decay", n=5, p=2.0, alpha=0.3, g=1.2, omega=1.0, b=0.7,
         noise=dict(dephasing=0.1, decay=0.05, temperature=None, collective_decay=0.0)),
    dict(name="LR p=1 Ising N=6, dephasing (benchmark model)", n=6, p=1.0, alpha=0.0, g=1.0, omega=4.0, b=1.0,
         noise=dict(dephasing=0.1, decay=0.0, temperature=None, collective_decay=0.0)),
    dict(name="LR p=0.5 XXZ N=6, everything", n=6, p=0.5, alpha=-0.4, g=0.5, omega=2.0, b=1.0,
         noise=dict(dephasing=0.05, decay=0.1, temperature=2.0, collective_decay=0.03)),
]
TIMES = [k * 0.05 for k in range(21)]  # [0, 1]

STORAGE_CASES = [
    dict(name="LR p=1 Ising N=3, dephasing both", n=3, p=1.0, alpha=0.0, g=1.0, omega=2.0, b=1.0, charge_time=0.3,
         noise_during="both", noise=dict(dephasing=0.2, decay=0.0, temperature=None, collective_decay=0.0)),
    dict(name="NN XXZ N=4, thermal bath in storage", n=4, p="nn", alpha=0.5, g=0.8, omega=1.5, b=1.0, charge_time=0.5,
         noise_during="storage", noise=dict(dephasing=0.0, decay=0.1, temperature=1.5, collective_decay=0.0)),
    dict(name="LR p=1 Ising N=4, collective decay while charging", n=4, p=1.0, alpha=0.0, g=1.0, omega=4.0, b=1.0,
         charge_time=0.2, noise_during="charge",
         noise=dict(dephasing=0.0, decay=0.0, temperature=None, collective_decay=0.2)),
    dict(name="LR p=2 XXZ N=5, dephasing and decay both", n=5, p=2.0, alpha=0.3, g=1.2, omega=1.0, b=0.7,
         charge_time=0.8, noise_during="both",
         noise=dict(dephasing=0.1, decay=0.05, temperature=None, collective_decay=0.0)),
]
STORAGE_TIMES = [k * 0.2 for k in range(11)]  # [0, 2]


def couplings(n, g, p):
    m = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            d = j - i
            if p == "nn":
                v = g if d == 1 else 0.0
            else:
                v = g / d**p
            m[i, j] = m[j, i] = v
    return m


def occupation(b, t):
    return 0.0 if not t else 1.0 / np.expm1(2.0 * b / t)


def qutip_model(c):
    """QuTiP operators of case c: (H_g + V, H0, H_B, E_0, c_ops(noise), all-down)."""
    n = c["n"]
    gm = couplings(n, c["g"], c["p"])
    ident = [qutip.qeye(2)] * n

    def op(o, i):
        ops = list(ident)
        ops[i] = o
        return qutip.tensor(ops)

    sx, sy, sz, sm = qutip.sigmax(), qutip.sigmay(), qutip.sigmaz(), qutip.sigmam()
    hg = 0 * op(qutip.qeye(2), 0)
    for i in range(n):
        for j in range(i + 1, n):
            if gm[i, j] != 0.0:
                hg -= gm[i, j] * (op(sz, i) * op(sz, j) + c["alpha"] * (op(sx, i) * op(sx, j) + op(sy, i) * op(sy, j)))
    v = sum(c["omega"] * op(sx, i) for i in range(n))
    hb = sum(c["b"] * op(sz, i) for i in range(n))
    e0 = -n * c["b"] - gm[np.triu_indices(n, 1)].sum()

    def cops(nz):
        nbar = occupation(c["b"], nz["temperature"])
        out = []
        for i in range(n):
            if nz["dephasing"]:
                out.append(np.sqrt(nz["dephasing"]) * op(sz, i))
            if nz["decay"]:
                out.append(np.sqrt(nz["decay"] * (nbar + 1)) * op(sm, i))
                if nbar:
                    out.append(np.sqrt(nz["decay"] * nbar) * op(sm.dag(), i))
        if nz["collective_decay"]:
            out.append(np.sqrt(nz["collective_decay"]) * sum(op(sm, i) for i in range(n)))
        return out

    down = qutip.tensor([qutip.basis(2, 1)] * n)
    return hg + v, hb + hg, hb, e0, cops, down * down.dag()


def qutip_curve(c):
    h, h0, _, e0, cops, rho0 = qutip_model(c)
    res = qutip.mesolve(h, rho0, TIMES, c_ops=cops(c["noise"]), e_ops=[h0], options=OPTIONS)
    return [float(np.real(x)) - e0 for x in res.expect[0]], e0


def dense_model(c):
    """spinbat's bit convention: index s, bit i set = site i up; single-site matrices with
    index 0 = down, 1 = up. (H_g + V, H0, H_B, E_0, superoperator(H, noise)), the
    superoperator for column-major vec: vec(A X B) = (B^T kron A) vec(X)."""
    n = c["n"]
    d = 2**n
    gm = couplings(n, c["g"], c["p"])
    z1 = np.array([[-1.0, 0.0], [0.0, 1.0]])
    x1 = np.array([[0.0, 1.0], [1.0, 0.0]])
    y1 = np.array([[0.0, 1.0j], [-1.0j, 0.0]])  # <down|Y|up> = -i<.|.>: Y|up> = i|down>
    sm1 = np.array([[0.0, 1.0], [0.0, 0.0]])  # |down><up|: row down(0), column up(1)

    def op(o, i):
        # bit i of the index: kron with site n-1 leftmost
        out = np.array([[1.0]])
        for site in reversed(range(n)):
            out = np.kron(out, o if site == i else np.eye(2))
        return out

    hg = np.zeros((d, d), complex)
    for i in range(n):
        for j in range(i + 1, n):
            if gm[i, j] != 0.0:
                hg -= gm[i, j] * (op(z1, i) @ op(z1, j) + c["alpha"] * (op(x1, i) @ op(x1, j) + op(y1, i) @ op(y1, j)))
    h = hg + sum(c["omega"] * op(x1, i) for i in range(n))
    hb = sum(c["b"] * op(z1, i) for i in range(n))
    e0 = -n * c["b"] - gm[np.triu_indices(n, 1)].sum()
    eye = np.eye(d)

    def superop(ham, nz):
        nbar = occupation(c["b"], nz["temperature"])
        ls = []
        for i in range(n):
            ls.append(np.sqrt(nz["dephasing"]) * op(z1, i))
            ls.append(np.sqrt(nz["decay"] * (nbar + 1)) * op(sm1, i))
            ls.append(np.sqrt(nz["decay"] * nbar) * op(sm1.T, i))
        ls.append(np.sqrt(nz["collective_decay"]) * sum(op(sm1, i) for i in range(n)))
        sup = -1j * (np.kron(eye, ham) - np.kron(ham.T, eye))
        for l in ls:
            ldl = l.conj().T @ l
            sup += np.kron(l.conj(), l) - 0.5 * np.kron(eye, ldl) - 0.5 * np.kron(ldl.T, eye)
        return sup

    return h, hg + hb, hb, e0, superop


def all_down(c):
    d = 2 ** c["n"]
    rho = np.zeros(d * d, complex)
    rho[0] = 1.0
    return rho


def dense_curve(c):
    h, h0, _, e0, superop = dense_model(c)
    d = 2 ** c["n"]
    step = scipy.linalg.expm(superop(h, c["noise"]) * (TIMES[1] - TIMES[0]))
    rho = all_down(c)
    out = []
    for k in range(len(TIMES)):
        if k:
            rho = step @ rho
        r = rho.reshape(d, d, order="F")
        out.append(float(np.real(np.trace(h0 @ r))) - e0)
    return out


def ergotropy(rho, h):
    """Tr(H rho) minus the passive energy: eigenvalues of rho descending against those of H
    ascending."""
    r = np.sort(np.linalg.eigvalsh((rho + rho.conj().T) / 2))[::-1]
    e = np.sort(np.linalg.eigvalsh(h))
    return float(np.real(np.trace(h @ rho)) - np.dot(r, e))


def noise_on(c, stage):
    """The case's noise while charging (stage = 'charge') or in storage."""
    on = c["noise_during"] in ("both", stage)
    zero = dict(dephasing=0.0, decay=0.0, temperature=None, collective_decay=0.0)
    return c["noise"] if on else zero


def qutip_storage(c):
    h, h0, hb, e0, cops, rho0 = qutip_model(c)
    charged = qutip.mesolve(h, rho0, [0.0, c["charge_time"]], c_ops=cops(noise_on(c, "charge")),
                            options=OPTIONS).states[-1]
    states = qutip.mesolve(h0, charged, STORAGE_TIMES, c_ops=cops(noise_on(c, "storage")), options=OPTIONS).states
    h0m, hbm = h0.full(), hb.full()
    work = [float(np.real(np.trace(h0m @ r.full()))) - e0 for r in states]
    return work, [ergotropy(r.full(), h0m) for r in states], [ergotropy(r.full(), hbm) for r in states], e0


def dense_storage(c):
    h, h0, hb, e0, superop = dense_model(c)
    d = 2 ** c["n"]
    rho = scipy.linalg.expm(superop(h, noise_on(c, "charge")) * c["charge_time"]) @ all_down(c)
    step = scipy.linalg.expm(superop(h0, noise_on(c, "storage")) * (STORAGE_TIMES[1] - STORAGE_TIMES[0]))
    work, erg, erg_hb = [], [], []
    for k in range(len(STORAGE_TIMES)):
        if k:
            rho = step @ rho
        r = rho.reshape(d, d, order="F")
        work.append(float(np.real(np.trace(h0 @ r))) - e0)
        erg.append(ergotropy(r, h0))
        erg_hb.append(ergotropy(r, hb))
    return work, erg, erg_hb


def main():
    cases = []
    for c in CASES:
        w, e0 = qutip_curve(c)
        wd = dense_curve(c)
        diff = max(abs(a - b) for a, b in zip(w, wd))
        print(f"{c['name']}: max |W_qutip - W_dense| = {diff:.2e}")
        cases.append(dict(
            name=c["name"], n_sites=c["n"], coupling="nn" if c["p"] == "nn" else "power-law",
            p=None if c["p"] == "nn" else c["p"], alpha=c["alpha"], g=c["g"], omega=c["omega"], b=c["b"],
            noise=c["noise"], e0=e0, times=TIMES, work=w, max_qutip_vs_dense=diff))
    storage = []
    for c in STORAGE_CASES:
        w, e, ehb, e0 = qutip_storage(c)
        wd, ed, ehbd = dense_storage(c)
        diff = max(max(abs(a - b) for a, b in zip(x, y)) for x, y in [(w, wd), (e, ed), (ehb, ehbd)])
        print(f"{c['name']}: max |qutip - dense| over W and both ergotropies = {diff:.2e}")
        storage.append(dict(
            name=c["name"], n_sites=c["n"], coupling="nn" if c["p"] == "nn" else "power-law",
            p=None if c["p"] == "nn" else c["p"], alpha=c["alpha"], g=c["g"], omega=c["omega"], b=c["b"],
            noise=c["noise"], noise_during=c["noise_during"], charge_time=c["charge_time"], e0=e0,
            times=STORAGE_TIMES, work=w, ergotropy=e, ergotropy_hb=ehb, max_qutip_vs_dense=diff))
    doc = dict(
        generated=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        generator="scripts/reference/make_noise_reference.py",
        qutip=qutip.__version__, numpy=np.__version__, scipy=scipy.__version__, python=platform.python_version(),
        mesolve_options=OPTIONS, cases=cases, storage_cases=storage)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
