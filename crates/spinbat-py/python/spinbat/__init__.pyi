"""Type stubs of spinbat (the classes live in the Rust extension spinbat._spinbat).

Units: hbar = 1, energies in B, times in 1/B.
"""

from typing import Any, List, Literal, Optional, Sequence, Tuple, Union, final

import numpy as np
import numpy.typing as npt

from . import analytic as analytic
from ._scan import scan as scan

__all__ = ["Chain", "Charging", "Storage", "store", "optimize", "scan", "analytic", "SOLVERS", "DEFAULT_TOL", "__version__"]

__version__: str
SOLVERS: list[str]
"""Solver names: auto, dense, chebyshev, dicke, mean-field, weak-coupling."""
DEFAULT_TOL: float
"""Default absolute tolerance on W, 1e-10 (units of B)."""

_SolverName = Literal["auto", "dense", "chebyshev", "dicke", "free-fermion", "mean-field", "weak-coupling", "mps"]
_CouplingName = Literal["power-law", "nn", "nearest-neighbour", "nearest-neighbor", "matrix"]
_BoundaryName = Literal["open", "periodic"]
_Times = Union[Sequence[float], npt.NDArray[np.floating[Any]], npt.NDArray[np.integer[Any]]]
_FloatArray = npt.NDArray[np.float64]

@final
class Chain:
    """A spin-1/2 chain battery (Le et al., PRA 97, 022106 (2018)).

    H0 = B sum_i Z_i - sum_{i<j} g_ij [Z_i Z_j + alpha (X_i X_j + Y_i Y_j)] (storage),
    H = H0 - B sum_i Z_i + omega sum_i X_i (charging), from the all-down state.
    Generalised charging: gamma (XYZ, alpha((1+gamma) X_i X_j + (1-gamma) Y_i Y_j)),
    omega_sites (V = omega sum_i w_i X_i), keep_field (H = H0 + V); dense, chebyshev
    and mean-field run them, other solvers raise ValueError.
    Couplings: power law g_ij = g / d_ij^p, nearest neighbour, or g_ij = g M_ij.
    Raises ValueError for parameters out of their domain.
    """

    def __new__(
        cls,
        n: int = 8,
        b: float = 1.0,
        g: float = 1.0,
        alpha: float = 0.0,
        omega: float = 4.0,
        coupling: Union[_CouplingName, str] = "power-law",
        p: float = 1.0,
        boundary: Union[_BoundaryName, str] = "open",
        matrix: Optional[Union[Sequence[Sequence[float]], npt.ArrayLike]] = None,
        gamma: float = 0.0,
        omega_sites: Optional[Sequence[float]] = None,
        keep_field: bool = False,
    ) -> Chain: ...
    @property
    def n(self) -> int:
        """Number of spins N."""
    @property
    def b(self) -> float:
        """Storage field B."""
    @property
    def g(self) -> float:
        """Coupling strength g (units of B)."""
    @property
    def alpha(self) -> float:
        """Anisotropy alpha (0 Ising, 1 XXX)."""
    @property
    def omega(self) -> float:
        """Charging field omega (units of B)."""
    @property
    def gamma(self) -> float:
        """XYZ anisotropy gamma (0: XXZ)."""
    @property
    def omega_sites(self) -> Optional[List[float]]:
        """Per-site multipliers w_i of omega (None: all 1)."""
    @property
    def keep_field(self) -> bool:
        """Whether the storage field stays on while charging (H = H0 + V)."""
    @property
    def coupling(self) -> Literal["nearest-neighbour", "power-law", "matrix"]:
        """Coupling pattern."""
    @property
    def p(self) -> Optional[float]:
        """Power-law exponent p, or None for other patterns."""
    @property
    def boundary(self) -> _BoundaryName:
        """Boundary condition."""
    @property
    def matrix(self) -> Optional[_FloatArray]:
        """The explicit N x N matrix M (g_ij = g M_ij) as given, or None."""
    @property
    def total_coupling(self) -> float:
        """G = sum_{i<j} g_ij (units of B)."""
    @property
    def initial_energy(self) -> float:
        """E0 = -N B - sum_{i<j} g_ij (units of B)."""
    @property
    def work_bound(self) -> float:
        """W(t) <= N(|B| + B) + min(N|omega|, (1 + 2|alpha|) sum|g_ij| + G) (units of B)."""
    def coupling_matrix(self) -> _FloatArray:
        """The N x N couplings g_ij (8 N^2 bytes; MemoryError if that does not fit)."""
    def charge(
        self,
        times: Optional[_Times] = None,
        t_max: Optional[float] = None,
        points: int = 201,
        solver: Union[_SolverName, str] = "auto",
        tol: float = 1e-10,
        observe: Optional[str] = None,
        block: Optional[int] = None,
        dephasing: float = 0.0,
        decay: float = 0.0,
        temperature: Optional[float] = None,
        collective_decay: float = 0.0,
        initial_temperature: Optional[float] = None,
        disorder_g: Optional[float] = None,
        disorder_field: Optional[float] = None,
        realisations: Optional[int] = None,
        seed: Optional[int] = None,
        trajectories: Optional[int] = None,
        omega_schedule: Optional[Sequence[Sequence[float]]] = None,
        drive: Optional[float] = None,
        drive_frequency: Optional[float] = None,
        bond_dim: Optional[int] = None,
        truncation: Optional[float] = None,
        time_step: Optional[float] = None,
    ) -> Charging:
        """W(t), P(t) = W/t, certified P_max and T*, maximal work (GIL released).

        omega_schedule=[(t_end, omega), ...]: a piecewise-constant field (times strictly
        increasing, fields >= 0; the charge ends at the last t_end, the default t_max);
        drive=A, drive_frequency=nu: omega(t) = omega + A cos(nu t). Either one, on the
        closed chain from all-down (no noise, disorder, trajectories or observe);
        to_dict()["protocol"] records it.

        solver="trajectories" (with noise or a thermal start): the mean over `trajectories`
        quantum trajectories (default 1000, seed `seed`), to_dict()["series"]["work_stderr"]
        its standard error; observe may ask for "bloch" and "ergotropy" (the local ergotropy
        of the mean one-site states), each with its standard error.

        observe: observables along the state ("entanglement,bloch,zz,variance,ergotropy" or
        "all"), in to_dict()["observables"]; block: with ergotropy, also block_ergotropy
        over blocks of `block` neighbouring sites. dephasing, decay, temperature,
        collective_decay: Lindblad noise (rates in units of B), run on the density matrix;
        observe then measures rho(t). initial_temperature: start from the Gibbs state of H0
        at T0 >= 0 (units of B) instead of all-down, W measured from its energy (the
        density matrix runs it). disorder_g, disorder_field: relative spreads in [0, 1)
        of g_ij and of the fields B_i; `realisations` (default 20) charges of random
        realisations (seed `seed`), the curve their mean, to_dict()["disorder"] the
        statistics of P_max, T*, the maximal work. solver="mps": a matrix-product state
        (two-site TDVP) with bond_dim (default 64), truncation (discarded weight per SVD,
        default 1e-10) and time_step (default h/4), as `spinbat charge --solver mps
        --bond-dim --truncation --time-step`; to_dict() has the CLI's MPS keys
        (bond_dim_reached, truncation_estimate, truncation_bound, step_error_estimate,
        mpo_fit_error, ...); the settings with another solver raise ValueError. Raises
        ValueError (bad input), MemoryError (solver too large), RuntimeError (not converged).
        """
    def max_power(self, solver: Union[_SolverName, str] = "auto", tol: float = 1e-10) -> Tuple[float, float]:
        """(P_max, T*): certified max_{T>0} W(T)/T (units B^2) and its time (1/B)."""
    def work(
        self, times: _Times, solver: Union[_SolverName, str] = "auto", tol: float = 1e-10
    ) -> Tuple[_FloatArray, _FloatArray]:
        """(W(t), dW/dt) at ascending times >= 0, float64 arrays."""
    def to_dict(self) -> dict[str, Any]:
        """Parameters, G, E0 and the work bound (the CLI record's `model`)."""
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]: ...

@final
class Charging:
    """The result of Chain.charge: the curve and the figures of merit.

    Energies in B, powers in B^2, times in 1/B.
    """

    @property
    def t(self) -> _FloatArray:
        """Output times, read-only float64."""
    @property
    def work(self) -> _FloatArray:
        """W(t) = <H0>_t - E0 at the output times, read-only float64."""
    @property
    def power(self) -> _FloatArray:
        """P(t) = W(t)/t (P(0) = 0), read-only float64."""
    @property
    def chain(self) -> Chain:
        """The chain that was charged."""
    @property
    def max_power(self) -> float:
        """Certified P_max = max_{T>0} W(T)/T."""
    @property
    def t_star(self) -> float:
        """T* where P_max is reached."""
    @property
    def work_at_max_power(self) -> float:
        """W(T*)."""
    @property
    def max_work(self) -> float:
        """Largest W on [0, window]."""
    @property
    def t_max_work(self) -> float:
        """Time of the maximal work."""
    @property
    def power_at_max_work(self) -> float:
        """W/T at the maximal work."""
    @property
    def power_ratio(self) -> float:
        """P_max / (N P1), P1 the maximal power of one spin."""
    @property
    def independent_max_power(self) -> float:
        """N P1 = 2 B N omega * 0.72461..."""
    @property
    def independent_max_work(self) -> float:
        """2 B N."""
    @property
    def certified_until(self) -> float:
        """No T beyond this can beat P_max."""
    @property
    def window(self) -> float:
        """End of the window of the maximal work (last output time)."""
    @property
    def evaluations(self) -> int:
        """W evaluations made by the search."""
    @property
    def solver(self) -> str:
        """Solver that ran (auto resolved)."""
    @property
    def solver_requested(self) -> str:
        """Solver asked for."""
    @property
    def tol(self) -> float:
        """Absolute tolerance on W asked for."""
    @property
    def accuracy(self) -> str:
        """How the solver's error is controlled."""
    @property
    def error_bound(self) -> Optional[float]:
        """Bound (dense: estimate) on the absolute error of every W (units of B); None where
        it is not bounded (weak coupling, a first-order formula)."""
    @property
    def run_time_s(self) -> float:
        """Wall time of the computation (seconds)."""
    def to_dict(self) -> dict[str, Any]:
        """The record `spinbat charge --json` writes, as plain Python objects."""
    def to_json(self) -> str:
        """The same record as a compact JSON string."""

@final
class Storage:
    """The result of spinbat.store: the work and the ergotropies over the storage times
    (from the end of charging) and their half-lives. Energies in B, times in 1/B.
    """

    @property
    def t(self) -> _FloatArray:
        """Storage times s from the end of charging, read-only float64."""
    @property
    def work(self) -> _FloatArray:
        """W(s) = Tr(H0 rho) - E0, read-only float64."""
    @property
    def rate(self) -> _FloatArray:
        """dW/ds (0 in closed storage), read-only float64."""
    @property
    def ergotropy(self) -> _FloatArray:
        """The ergotropy for H0 (NaN where not known)."""
    @property
    def ergotropy_hb(self) -> _FloatArray:
        """The ergotropy for H_B = B sum_i Z_i."""
    @property
    def local_ergotropy(self) -> _FloatArray:
        """sum_i E(rho_i, B Z_i)."""
    @property
    def work_stderr(self) -> Optional[_FloatArray]:
        """By trajectories: one standard error of the mean W(s); None otherwise."""
    @property
    def chain(self) -> Chain:
        """The chain that was stored."""
    @property
    def charge_time(self) -> float:
        """The charging time T."""
    @property
    def work_at_charge(self) -> float:
        """W(T), the work at the start of storage."""
    @property
    def work_half_life(self) -> Optional[float]:
        """First storage time where W falls to half its value at s = 0, or None."""
    @property
    def ergotropy_half_life(self) -> Optional[float]:
        """First storage time where the ergotropy for H0 falls to half, or None."""
    @property
    def ergotropy_hb_half_life(self) -> Optional[float]:
        """First storage time where the ergotropy for H_B falls to half, or None."""
    @property
    def noise_during(self) -> Literal["charge", "storage", "both"]:
        """When the noise acted."""
    @property
    def solver(self) -> str:
        """The solver that ran."""
    @property
    def error_bound(self) -> float:
        """Bound on the absolute error of every W (units of B)."""
    def to_dict(self) -> dict[str, Any]:
        """The record `spinbat store --json` writes, as plain Python objects."""
    def to_json(self) -> str:
        """The same record as a compact JSON string."""

def store(
    chain: Chain,
    times: Optional[_Times] = None,
    *,
    charge_time: Optional[float] = None,
    t_max: Optional[float] = None,
    points: int = 41,
    noise_during: Literal["charge", "storage", "both"] = "both",
    dephasing: float = 0.0,
    decay: float = 0.0,
    temperature: Optional[float] = None,
    collective_decay: float = 0.0,
    observe: Optional[str] = None,
    block: Optional[int] = None,
    solver: Literal["auto", "dense", "chebyshev", "density-matrix", "trajectories"] = "auto",
    tol: float = 1e-10,
    initial_temperature: Optional[float] = None,
    trajectories: Optional[int] = None,
    seed: Optional[int] = None,
) -> Storage:
    """Charge the chain (for T* of the closed chain, or charge_time), then hold it under H0
    (field off) with the noise while charging, in storage or both: W(s), the ergotropy
    family and the half-lives (spinbat store); initial_temperature: charge from the Gibbs
    state of H0 at T0 >= 0 instead of all-down (W from its energy); solver="trajectories"
    (with trajectories=K, seed=S): the means over quantum trajectories with standard errors
    (work_stderr; the global ergotropies NaN). Raises ValueError for bad input or N > 12
    with noise,
    MemoryError where the density matrices do not fit."""

def optimize(
    chain: Chain,
    charge_time: float,
    *,
    segments: int = 20,
    omega_max: float,
    objective: Literal["work", "power", "ergotropy"] = "work",
    seed: int = 1,
    starts: int = 4,
    max_iterations: int = 200,
    solver: Literal["chebyshev", "mean-field"] = "chebyshev",
    tol: float = 1e-10,
) -> dict[str, Any]:
    """Optimal charging: the piecewise-constant field |omega_k| <= omega_max on `segments`
    equal segments of [0, charge_time] that maximises the objective at T (exact gradients,
    projected L-BFGS). Returns the keys of `spinbat optimize --json`: work, power,
    ergotropy, schedule {ends, omegas}, constant_field {omega, work}, gradient_check,
    start_work, evaluations, objective. Raises ValueError for bad parameters."""
