"""W(t) and W'(t) against QuTiP, with the Hamiltonian built from physics.md alone.

Nothing about the model is taken from spinbat: the couplings g_ij come from the chain's
parameters by the definitions (distance |i - j|, or min(|i - j|, N - |i - j|) on a ring;
g_ij = g [d = 1] for nearest neighbour, g / d^p for a power law, g M_ij for a matrix), and
E_0 from the closed form -N B - sum_{i<j} g_ij; spinbat's own `initial_energy` is checked
against it. QuTiP's sesolve (vern9, atol = rtol = 1e-13) reaches ~1e-12 on these small
chains, so W and W' are compared at 1e-11 (relative to max(1, |value|)); the rate against
QuTiP's exact expectation <i[H, H0]>, not a difference quotient.
"""

import numpy as np
import pytest

import spinbat
from conftest import close

# the defaults of spinbat.Chain(...) (its documented signature)
DEFAULTS = {"n": 8, "b": 1.0, "g": 1.0, "alpha": 0.0, "omega": 4.0, "coupling": "power-law", "p": 1.0,
            "boundary": "open", "matrix": None}
SESOLVE = {"atol": 1e-13, "rtol": 1e-13, "nsteps": 10**7, "method": "vern9"}
TOL = 1e-11


def couplings(par):
    """g_ij (i < j) from the definitions of physics.md."""
    n, g = par["n"], par["g"]
    out = {}
    for i in range(n):
        for j in range(i + 1, n):
            if par["matrix"] is not None:
                gij = g * par["matrix"][i][j]
            else:
                d = j - i
                if par["boundary"] == "periodic":
                    d = min(d, n - d)
                gij = (g if d == 1 else 0.0) if par["coupling"] == "nn" else g / d ** par["p"]
            if gij != 0.0:
                out[(i, j)] = gij
    return out


def hamiltonians(qt, par):
    """(H0, H, E0) of physics.md from tensor products of Pauli matrices."""
    n = par["n"]
    ident = [qt.qeye(2)] * n

    def site(op, i):
        ops = list(ident)
        ops[i] = op
        return qt.tensor(ops)

    x = [site(qt.sigmax(), i) for i in range(n)]
    y = [site(qt.sigmay(), i) for i in range(n)]
    z = [site(qt.sigmaz(), i) for i in range(n)]
    gs = couplings(par)
    h_g = 0 * z[0]
    for (i, j), gij in gs.items():
        h_g -= gij * (z[i] * z[j] + par["alpha"] * (x[i] * x[j] + y[i] * y[j]))
    h0 = par["b"] * sum(z) + h_g
    h = h_g + par["omega"] * sum(x)
    e0 = -n * par["b"] - sum(gs.values())
    return h0, h, e0


def qutip_work_and_rate(qt, par, times):
    """W(t) = <H0>_t - E0 and W'(t) = <i[H, H0]>_t from the all-down state
    (qutip basis(2, 1) is the Z = -1 eigenvector)."""
    h0, h, e0 = hamiltonians(qt, par)
    psi0 = qt.tensor([qt.basis(2, 1)] * par["n"])
    assert abs(qt.expect(h0, psi0) - e0) < 1e-12, "closed-form E_0 vs <psi0|H0|psi0>"
    rate_op = 1j * (h * h0 - h0 * h)
    res = qt.sesolve(h, psi0, times, e_ops=[h0, rate_op], options=SESOLVE)
    return np.real(np.asarray(res.expect[0])) - e0, np.real(np.asarray(res.expect[1])), e0


CASES = [
    {"n": 3, "alpha": 0.0},
    {"n": 4, "alpha": 0.3, "g": 1.5},
    {"n": 4, "alpha": -0.6, "coupling": "nn", "boundary": "periodic", "omega": 2.0},
    {"n": 5, "alpha": 0.7, "p": 1.5, "boundary": "periodic", "b": 0.8, "g": 0.9},
    {"n": 6, "alpha": 1.3, "coupling": "nn", "boundary": "periodic", "omega": 1.5},
    {"n": 4, "alpha": 0.5, "g": 1.7, "matrix": [[0, 1, 0, 0.3], [1, 0, 2, 0], [0, 2, 0, 0.7], [0.3, 0, 0.7, 0]]},
]


@pytest.mark.parametrize("kw", CASES)
def test_work_and_rate_match_qutip(qutip, kw):
    par = {**DEFAULTS, **kw}
    chain = spinbat.Chain(**kw)
    times = np.linspace(0.0, 2 * np.pi / par["omega"], 41)
    ref_w, ref_r, e0 = qutip_work_and_rate(qutip, par, times)
    assert abs(chain.initial_energy - e0) < 1e-12 * max(1.0, abs(e0))
    for solver in ["dense", "chebyshev"]:
        work, rate = chain.work(times, solver=solver)
        close(work, ref_w, TOL)
        close(rate, ref_r, TOL)
    close(chain.charge(times=times).work, ref_w, TOL)


def test_couplings_follow_the_minimum_image():
    # the reference itself: on a ring of 5, sites 0 and 3 are 2 apart, 0 and 4 neighbours
    g = couplings({**DEFAULTS, "n": 5, "p": 2.0, "boundary": "periodic"})
    assert g[(0, 3)] == 0.25 and g[(0, 4)] == 1.0 and g[(0, 2)] == 0.25
