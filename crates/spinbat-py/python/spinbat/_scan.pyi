"""Type stubs of spinbat.scan (spinbat/_scan.py). Units: hbar = 1, energies in B, times in 1/B."""

from typing import Any, Literal, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from . import Chain

_ScanSolverName = Literal["quantum", "dense", "chebyshev", "dicke", "mean-field", "weak-coupling"]
_ParameterName = Literal[
    "n", "alpha", "p", "g", "omega", "b", "gamma", "dephasing", "decay", "collective_decay", "temperature"
]
_Values = Union[str, Sequence[float], npt.NDArray[np.floating[Any]], npt.NDArray[np.integer[Any]]]

COLUMNS: list[str]
"""The columns of a scan's rows, in order."""

def scan(
    vary: Union[_ParameterName, str],
    values: Optional[_Values] = None,
    chain: Optional[Chain] = None,
    *,
    solvers: Union[str, Sequence[Union[_ScanSolverName, str]]] = ("quantum",),
    tol: float = 1e-10,
    power_only: bool = False,
    window: Optional[float] = None,
    dephasing: float = 0.0,
    decay: float = 0.0,
    temperature: Optional[float] = None,
    collective_decay: float = 0.0,
    executor: Optional[Any] = None,
    **model: Any,
) -> Any:
    """One parameter swept, several solvers side by side (`spinbat scan`; GIL released).

    vary: "n", "alpha", "p", "g", "omega", "b", "gamma" or a noise rate "dephasing", "decay",
    "collective_decay", "temperature" (the noise keywords set the rest) with `values` (a spec "0:1:0.1", "2..8",
    "1,2,4" or numbers), or "NAME=SPEC" alone. Base chain: `chain` or Chain(**model).
    Returns one row per (value, solver) -- value, solver, method, n_sites, max_power
    [B^2], t_star [1/B], work_at_max_power [B], max_work [B], t_max_work [1/B],
    power_at_max_work [B^2], window [1/B], power_ratio, work_ratio,
    independent_max_power, independent_max_work, error_bound, accuracy, run_time_s -- as
    a pandas.DataFrame when pandas is installed, else a list of dicts (the return type is
    Any for that reason). executor: a concurrent.futures.Executor-like object (submit or
    map; e.g. ProcessPoolExecutor with a forkserver/spawn context, dask.distributed.Client)
    that runs one task per value, rows identical to the serial scan. Raises ValueError (bad input, with the CLI's messages),
    MemoryError (a solver too large), RuntimeError (not converged).
    """
