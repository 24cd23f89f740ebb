"""spinbat: spin-chain quantum batteries (Le et al., PRA 97, 022106 (2018)).

N spins-1/2 with storage Hamiltonian

    H0 = B sum_i Z_i - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)],

charged from the all-down state (energy E0 = -N B - sum_{i<j} g_ij) by

    H = H0 - B sum_i Z_i + omega sum_i X_i       (the field B is off while charging).

Work W(T) = <psi(T)|H0|psi(T)> - E0, average power P(T) = W(T)/T, maximal power
P_max = max_{T>0} P(T) at T*. Units: hbar = 1, energies in B, times in 1/B.

Which call answers which question:

    chain = spinbat.Chain(n=8, alpha=0.0, coupling="power-law", p=1.0)
    chain.charge()            # curve t, work, power + certified P_max, T*, max work (Charging)
    chain.max_power()         # (P_max, T*) only
    chain.work(times)         # (W(t), dW/dt) at given times
    chain.charge(solver="mean-field")   # classical Bloch-vector model (paper Sec. IV)
    spinbat.scan("alpha=0:1:0.1", n=4, solvers="quantum,mean-field")
                              # P_max, T*, max work per value and solver (DataFrame / dicts)
    spinbat.store(chain, decay=0.1, noise_during="storage")
                              # charge, then hold under H0 with noise: W(s), ergotropies,
                              # half-lives (Storage)
    spinbat.analytic.*        # closed forms: one spin, XXX, weak coupling Eq. 18/19, strong coupling

Errors: bad input raises ValueError, a solver that would not fit in memory MemoryError,
with the messages of the `spinbat` command line. The computations are in Rust (the
`spinbat` crate) and release the GIL; rayon uses all cores unless RAYON_NUM_THREADS is set
before the first call.
"""

from . import analytic
from ._scan import scan
from ._spinbat import DEFAULT_TOL, SOLVERS, Chain, Charging, Storage, __version__, optimize, store

__all__ = ["Chain", "Charging", "Storage", "store", "optimize", "scan", "analytic", "SOLVERS", "DEFAULT_TOL", "__version__"]
