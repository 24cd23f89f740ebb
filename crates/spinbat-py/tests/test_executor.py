"""spinbat.scan(..., executor=...): the points fanned out to other processes (a
concurrent.futures.ProcessPoolExecutor, a local dask.distributed cluster of two workers, an
object with only `map`) give the serial scan's rows, in its order; bad input is refused
before any task is submitted; a forking process pool is refused (its children would hang)."""

import concurrent.futures
import math
import multiprocessing
import os

import pytest

import spinbat

# a closed scan with several solvers, one over N with weak coupling and no maximal work, and
# one over a noise rate (density matrix)
CASES = [
    dict(vary="alpha=0:1:0.25", n=6, coupling="power-law", p=1.0, solvers="quantum,mean-field"),
    dict(vary="n", values="2..7", p=0.0, solvers=["quantum", "weak-coupling"], power_only=True),
    dict(vary="dephasing", values=[0.0, 0.1, 0.3], n=3, solvers="quantum", window=1.0),
]

# what a run measures about itself, not the physics
NOT_COMPARED = {"run_time_s"}


def rows_of(result):
    if isinstance(result, list):
        return result
    return result.to_dict("records")


def assert_same_rows(fanned, serial):
    """The same rows in the same order: text equal, numbers equal to 1e-12 (relative; the
    same computation, only run elsewhere), missing values missing in both."""
    fanned, serial = rows_of(fanned), rows_of(serial)
    assert [(r["value"], r["solver"]) for r in fanned] == [(r["value"], r["solver"]) for r in serial]
    for a, b in zip(fanned, serial):
        for column in a:
            if column in NOT_COMPARED:
                continue
            x, y = a[column], b[column]
            if isinstance(y, float) and math.isnan(y):
                assert isinstance(x, float) and math.isnan(x), (column, x, y)
            elif isinstance(y, (int, float)) and not isinstance(y, bool):
                assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-300), (a["value"], a["solver"], column, x, y)
            else:
                assert x == y, (a["value"], a["solver"], column, x, y)


@pytest.fixture(scope="module")
def pool():
    # forkserver: the children start clean (a forked child of a process that has started
    # rayon's threads would wait for threads it does not have)
    ctx = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        yield executor


@pytest.mark.parametrize("kwargs", CASES)
def test_a_process_pool_gives_the_serial_rows(pool, kwargs):
    serial = spinbat.scan(**kwargs)
    fanned = spinbat.scan(**kwargs, executor=pool)
    assert_same_rows(fanned, serial)
    if not isinstance(fanned, list):
        assert fanned.attrs["vary"] == serial.attrs["vary"]
        assert fanned.attrs["chain"] == serial.attrs["chain"]


class MapOnly:
    """An executor with `map` only (the builtin map: in this process)."""

    def __init__(self):
        self.calls = 0

    def map(self, fn, *iterables):
        self.calls += 1
        return map(fn, *iterables)


class Recording:
    """Counts submissions; runs nothing."""

    def __init__(self):
        self.submitted = 0

    def submit(self, fn, *args):
        self.submitted += 1
        raise AssertionError("nothing should be submitted")


def test_an_executor_with_map_only_gives_the_serial_rows():
    kwargs = CASES[0]
    executor = MapOnly()
    assert_same_rows(spinbat.scan(**kwargs, executor=executor), spinbat.scan(**kwargs))
    assert executor.calls == 1


@pytest.mark.parametrize(
    "kwargs,says",
    [
        (dict(vary="n", values=[3, 0, 4]), "at least one site"),
        (dict(vary="alpha=0:1:0.5", solvers="quantum,nonsense"), "nonsense"),
        (dict(vary="alpha=0:1:0.5", tol=2.0), "tol"),
        (dict(vary="dephasing", values=[0.1, -1.0], n=3), "dephasing"),
    ],
)
def test_bad_input_is_refused_before_any_task_is_submitted(kwargs, says):
    executor = Recording()
    with pytest.raises(ValueError, match=says):
        spinbat.scan(**kwargs, executor=executor)
    assert executor.submitted == 0


def test_a_forking_process_pool_and_an_object_without_submit_or_map_are_refused():
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("this platform has no fork start method")
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as forking:
        with pytest.raises(ValueError, match="forkserver"):
            spinbat.scan("alpha=0:1:0.5", n=3, executor=forking)
    with pytest.raises(ValueError, match="neither submit nor map"):
        spinbat.scan("alpha=0:1:0.5", n=3, executor=object())


def test_a_point_that_fails_on_a_worker_raises_its_error_here(pool):
    # dicke on a chain that is not permutation-symmetric passes the checks that need no
    # computation and is refused where the point runs; the error comes back as itself
    with pytest.raises(ValueError, match="(?i)dicke|permutation"):
        spinbat.scan("alpha=0:1:0.5", n=4, coupling="power-law", p=1.0, solvers="dicke", executor=pool)


def test_a_local_dask_cluster_of_two_workers_gives_the_serial_rows():
    if os.environ.get("SPINBAT_REQUIRE_DASK") != "1":
        pytest.importorskip("distributed", reason="dask.distributed is not installed (scripts/python-tests.sh installs it)")
    from distributed import Client, LocalCluster, get_task_stream

    kwargs = dict(vary="alpha=0:1:0.125", n=8, coupling="power-law", p=1.0, solvers="quantum,mean-field")
    serial = spinbat.scan(**kwargs)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        with get_task_stream(client) as stream:
            fanned = spinbat.scan(**kwargs, executor=client)
    assert_same_rows(fanned, serial)
    tasks = [t for t in stream.data if "_scan_point" in str(t["key"])]
    assert len(tasks) == 9, "one task per value of alpha"
