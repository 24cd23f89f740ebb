"""W(t) against QuTiP: H and H0 built from Pauli operators, sesolve at tight tolerances."""

import numpy as np
import pytest

import spinbat
from conftest import close


def hamiltonians(qt, chain):
    """(H0, H) of physics.md for `chain` from tensor products of Pauli matrices."""
    n = chain.n
    ident = [qt.qeye(2)] * n

    def site(op, i):
        ops = list(ident)
        ops[i] = op
        return qt.tensor(ops)

    x = [site(qt.sigmax(), i) for i in range(n)]
    y = [site(qt.sigmay(), i) for i in range(n)]
    z = [site(qt.sigmaz(), i) for i in range(n)]
    g = chain.coupling_matrix()
    h_g = 0 * z[0]
    for i in range(n):
        for j in range(i + 1, n):
            h_g -= g[i, j] * (z[i] * z[j] + chain.alpha * (x[i] * x[j] + y[i] * y[j]))
    h0 = chain.b * sum(z) + h_g
    h = h_g + chain.omega * sum(x)
    return h0, h


def qutip_work(qt, chain, times):
    """W(t) = <H0>_t - E0 from the all-down state (qutip basis(2, 1) is Z = -1)."""
    h0, h = hamiltonians(qt, chain)
    psi0 = qt.tensor([qt.basis(2, 1)] * chain.n)
    e0 = qt.expect(h0, psi0)
    assert abs(e0 - chain.initial_energy) < 1e-12
    opts = {"atol": 1e-13, "rtol": 1e-13, "nsteps": 10**6, "method": "adams"}
    res = qt.sesolve(h, psi0, times, e_ops=[h0], options=opts)
    return np.asarray(res.expect[0]) - e0


@pytest.mark.parametrize(
    "kw",
    [
        {"n": 3, "alpha": 0.0},
        {"n": 4, "alpha": 0.3, "g": 1.5},
        {"n": 4, "alpha": -0.6, "coupling": "nn", "boundary": "periodic", "omega": 2.0},
        {"n": 4, "alpha": 0.5, "matrix": [[0, 1, 0, 0.3], [1, 0, 2, 0], [0, 2, 0, 0.7], [0.3, 0, 0.7, 0]]},
    ],
)
def test_work_matches_qutip(qutip, kw):
    chain = spinbat.Chain(**kw)
    times = np.linspace(0.0, 2 * np.pi / chain.omega, 41)
    ref = qutip_work(qutip, chain, times)
    for solver in ["dense", "chebyshev"]:
        work, _ = chain.work(times, solver=solver)
        close(work, ref, 1e-8)
    close(chain.charge(times=times).work, ref, 1e-8)


def test_rate_matches_qutip_difference_quotient(qutip):
    chain = spinbat.Chain(n=3, alpha=0.4)
    t, h = 0.3, 1e-4
    w = qutip_work(qutip, chain, [0.0, t - h, t + h])
    _, rate = chain.work([t])
    assert abs(rate[0] - (w[2] - w[1]) / (2 * h)) < 1e-5 * max(1.0, abs(rate[0]))
