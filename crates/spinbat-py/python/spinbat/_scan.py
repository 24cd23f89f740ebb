"""spinbat.scan: one parameter swept, several solvers side by side (`spinbat scan`)."""

from ._spinbat import SCAN_COLUMNS as _SCAN_COLUMNS
from ._spinbat import Chain
from ._spinbat import scan as _native_scan
from ._spinbat import scan_points as _scan_points

# the columns of a scan, in order (the library's ScanRow::COLUMNS); those that may be
# missing (None / NaN) are floats
COLUMNS = list(_SCAN_COLUMNS)
_TEXT = {"solver", "method", "accuracy"}


def scan(
    vary,
    values=None,
    chain=None,
    *,
    solvers=("quantum",),
    tol=1e-10,
    power_only=False,
    window=None,
    dephasing=0.0,
    decay=0.0,
    temperature=None,
    collective_decay=0.0,
    executor=None,
    **model,
):
    """Scans one parameter of the chain with several solvers: the certified maximal power
    and the maximal work of every (value, solver), as `spinbat scan` computes them.

    Units: hbar = 1, energies (work) in units of B, powers in B^2, times in 1/B.

    For every value of the varied parameter and every solver: P_max = max_{T>0} W(T)/T (a
    certified global maximum), its time T* and W(T*); the maximal work W_max on
    [0, window] with its time and W/T there; and the gains over N independent spins,
    P_max / (N P1) (P1 = 2 B omega * 0.72461... the maximal power of one spin) and
    W_max / (2 B N).

    Parameters
    ----------
    vary : str
        The varied parameter, one of "n", "alpha", "p", "g", "omega", "b", "gamma" (XYZ), or a noise
        rate "dephasing", "decay", "collective_decay", "temperature" -- or, without
        `values`, the command line's NAME=SPEC form, e.g. "alpha=0:1:0.1".
    values : str or sequence of float, optional
        The values: a spec as on the command line -- a list "1,2,4", an integer range
        "2..14" (ends included) or "start:stop:step" (e.g. "0:1:0.1", ends included) --
        or a sequence / 1-d array of numbers. Omitted when `vary` holds them.
    chain : Chain, optional
        The base chain; the varied parameter replaces its value. Default: Chain() built
        from the model keywords (the command line's defaults without them).
    solvers : str or sequence of str
        "quantum" (exact dynamics; dicke, dense or chebyshev chosen per point),
        "mean-field" (classical Bloch vectors, paper Sec. IV), "weak-coupling" (paper
        Eq. 18), or a method name ("dense", "chebyshev", "dicke"); a sequence or a
        comma-separated string. Default ("quantum",).
    tol : float
        Absolute tolerance on W in units of B, in (0, 1).
    power_only : bool
        Only P_max: each propagation stops at its certified stopping time (much cheaper
        for large N); the maximal-work columns are then missing.
    window : float, optional
        End of the maximal-work window [0, window] (units of 1/B); default 2 pi / omega
        of each point.
    dephasing, decay, temperature, collective_decay : float, optional
        The noise of every point (rates in units of B), as `Chain.charge` and `spinbat
        scan --dephasing --decay --temperature --collective-decay` take it; a varied noise
        rate replaces its own. A point with any rate non-zero runs the density matrix
        (the Dicke density matrix for p = 0 with collective decay only), P_max certified
        with W <= lambda_max(H0) - E0; a point with every rate zero the closed battery.
    executor : concurrent.futures.Executor-like, optional
        Fans the points out: each value of the varied parameter (with all its solvers) is
        one task, `executor.submit(fn, *args)` (or, without `submit`, `executor.map`),
        whose result is awaited with `.result()` -- a
        `concurrent.futures.ProcessPoolExecutor` (with a "spawn" or "forkserver"
        `mp_context`: a forked child cannot run the parent's worker threads), a
        `dask.distributed.Client` (the points run on its workers, which must have
        spinbat installed) or any object with the same `submit`. The tasks carry plain
        data (the chain pickles as its parameters) and each runs the same computation as
        the serial scan: the rows are the same, in the same order. The values, solvers,
        tol, window, noise and every point's chain are checked here before any task is
        submitted; each point's memory is checked on the worker that runs it. Default:
        None, every point in this process (rayon threads).
    **model
        Keywords of Chain (n, b, g, alpha, omega, coupling, p, boundary, matrix) for the
        base chain, instead of `chain`.

    Returns
    -------
    pandas.DataFrame or list of dict
        One row per (value, solver), values slowest: a DataFrame when pandas can be
        imported (with attrs "vary", "tol" and "chain"), else a list of dicts. Columns:
        value, solver, method (the one that ran), n_sites, max_power [B^2], t_star [1/B],
        work_at_max_power [B], max_work [B], t_max_work [1/B], power_at_max_work [B^2],
        window [1/B], power_ratio, work_ratio, independent_max_power [B^2],
        independent_max_work [B], error_bound (on W, units of B), accuracy, run_time_s.
        Without maximal work (power_only) its columns are None (NaN in a DataFrame).

    Raises
    ------
    ValueError
        An unknown parameter or solver, a malformed or empty range, a value the chain
        refuses (n = 0, p varied on nearest-neighbour couplings, ...), a bad tol or window,
        or a solver that does not apply (dicke on unequal couplings); the messages are
        those `spinbat scan` prints.
    MemoryError
        A point's solver would need more memory than the machine has.
    RuntimeError
        A certified search did not converge.

    Every chain is checked before any point runs; points run in parallel (rayon) with the
    GIL released, or as tasks of `executor`.

    Examples
    --------
    >>> import spinbat
    >>> df = spinbat.scan("alpha=0:1:0.25", n=4, coupling="nn", solvers="quantum,mean-field")
    >>> df.pivot(index="value", columns="solver", values="max_power")

    The same points on two local processes (or a Dask cluster's workers, passing its
    Client):

    >>> import concurrent.futures, multiprocessing
    >>> ctx = multiprocessing.get_context("forkserver")
    >>> with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
    ...     df = spinbat.scan("alpha=0:1:0.25", n=4, solvers="quantum", executor=pool)
    """
    if chain is not None and model:
        raise ValueError(
            f"give either chain= or the model keywords ({', '.join(sorted(model))}), not both"
        )
    if chain is None:
        chain = Chain(**model)
    noise = dict(dephasing=dephasing, decay=decay, temperature=temperature, collective_decay=collective_decay)
    if executor is None:
        parameter, rows = _native_scan(chain, vary, values, solvers, tol, power_only, window, **noise)
    else:
        parameter, rows = _scan_on(executor, chain, vary, values, solvers, tol, power_only, window, noise)
    try:
        import pandas
    except ImportError:
        return rows
    frame = pandas.DataFrame.from_records(rows, columns=COLUMNS)
    for column in COLUMNS:
        if column not in _TEXT and column != "n_sites":
            frame[column] = frame[column].astype("float64")  # None -> NaN
    frame.attrs["vary"] = parameter
    frame.attrs["tol"] = tol
    frame.attrs["chain"] = chain.to_dict()
    return frame


def _scan_point(chain, parameter, value, solvers, tol, power_only, window, noise):
    """One task of a scan on an executor: the rows of one value with every solver (the
    native scan of a one-value sweep). Module-level, so that workers find it by name."""
    return _native_scan(chain, parameter, [value], solvers, tol, power_only, window, **noise)[1]


def _scan_on(executor, chain, vary, values, solvers, tol, power_only, window, noise):
    """The rows of the scan with one task per value on `executor`, in the serial order
    (values, then solvers): `submit` and `.result()`, or `map` without `submit`."""
    if isinstance(solvers, str):
        solvers = [solvers]
    solvers = list(solvers)
    parameter, points = _scan_points(chain, vary, values, solvers, tol, power_only, window, **noise)
    context = getattr(executor, "_mp_context", None)  # a ProcessPoolExecutor's start method
    if context is not None and getattr(context, "get_start_method", lambda: None)() == "fork":
        raise ValueError(
            "executor: a ProcessPoolExecutor that forks cannot run spinbat in its children (a forked "
            "child has none of the parent's worker threads and would hang); pass "
            "mp_context=multiprocessing.get_context('forkserver') (or 'spawn')"
        )
    tasks = [(chain, parameter, v, solvers, tol, power_only, window, noise) for v in points]
    if hasattr(executor, "submit"):
        futures = [executor.submit(_scan_point, *t) for t in tasks]
        results = [f.result() for f in futures]
    elif hasattr(executor, "map"):
        results = [r.result() if hasattr(r, "result") else r
                   for r in executor.map(_scan_point, *zip(*tasks))]
    else:
        raise ValueError(
            f"executor: {type(executor).__name__} has neither submit nor map; pass a "
            "concurrent.futures.Executor, a dask.distributed.Client or the like"
        )
    return parameter, [row for rows in results for row in rows]
