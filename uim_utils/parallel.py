"""Threads and worker processes: one home for how the lab uses the CPU.

Two facts decide the lab's use of the CPU:

- **Numbers depend on the thread count.** A float sum split over two threads adds in
  another order than one thread does, so a model trained with two threads differs (in
  the fourth decimal of its weights, enough to flip some predictions) from the same
  model trained with one. The lab therefore trains every model, and runs every
  evaluation that must repeat exactly, with a fixed number of threads whatever the
  machine: **one** (:data:`THREADS`, applied by :func:`limited_threads`) unless a
  pre-training run asks for more (``TrainConfig.threads``, part of its cache key).
- **Two small models in two processes beat one model on two threads.** The lab's models
  are small: a second thread speeds a training step of ``uim-base`` up by about a third
  on the reference machine (about 1.7 times with its image tower channels-last,
  :attr:`uim_utils.pretrain.TrainConfig.channels_last`), while a second process nearly
  doubles the work done. So several models are trained side by side in worker processes
  (:func:`worker_count` of them, each started by :func:`init_worker`), e.g. by
  :func:`uim_utils.pretrain.pretrain_many` and by ``scripts/sweep.py --workers``. A
  training run may ask for more threads (``TrainConfig.threads``, part of its cache key);
  such models train one after the other, since two two-thread processes on two cores
  run several times slower than one.

Workers are **forked** on Linux (:func:`start_method`): a forked worker starts with every
module its parent has imported, where a spawned one imports torch, torchvision and
open_clip afresh (about 8-10 s of CPU each on the reference machine, before its first
step). The workers set one thread before any computation, the pattern of torch's own
``DataLoader`` workers, which makes forking after the parent ran multi-threaded code
safe. Elsewhere (macOS, Windows) they are spawned; ``UIM_START_METHOD=spawn`` forces that.

Torch-free at import (the appendix imports the chapter modules that import this one).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from typing import Any

THREADS = 1
"""Threads of every repeatable evaluation and, by default, of every training run (see the
module docstring)."""

WORKER_ENV = "UIM_WORKER"
"""Set to ``"1"`` in worker processes, which then start no workers of their own."""

_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@contextlib.contextmanager
def limited_threads(n: int = THREADS) -> Iterator[None]:
    """Run the block with ``n`` threads in torch and in the BLAS / OpenMP pools, then restore.

    Parameters
    ----------
    n : int
        Threads, at least 1.
    """
    if type(n) is not int or n < 1:
        raise ValueError(f"threads must be an int >= 1, got {n!r}")
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    try:
        with threadpool_limits(limits=n):
            if torch is not None:
                torch.set_num_threads(n)
            yield
    finally:
        if torch is not None and before is not None:
            torch.set_num_threads(before)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def in_worker() -> bool:
    """True inside a worker process started by :func:`init_worker`."""
    return os.environ.get(WORKER_ENV) == "1"


START_METHOD_ENV = "UIM_START_METHOD"
"""Environment variable that overrides :func:`start_method` (``fork`` or ``spawn``)."""


def start_method() -> str:
    """How worker processes start: ``"fork"`` on Linux, ``"spawn"`` elsewhere.

    :data:`START_METHOD_ENV` (``UIM_START_METHOD``) overrides it with ``fork`` or
    ``spawn``; any other value, or ``fork`` where the platform has none, raises a
    ``ValueError`` that names it.
    """
    chosen = os.environ.get(START_METHOD_ENV, "")
    if not chosen:
        return "fork" if sys.platform.startswith("linux") else "spawn"
    if chosen not in ("fork", "spawn") or chosen not in get_all_start_methods():
        raise ValueError(f"{START_METHOD_ENV} must be 'fork' or 'spawn' (one this platform has: "
                         f"{get_all_start_methods()}), got {chosen!r}")
    return chosen


def mp_context() -> BaseContext:
    """The multiprocessing context of every worker pool (:func:`start_method`)."""
    return get_context(start_method())


@contextlib.contextmanager
def quiet_fork() -> Iterator[None]:
    """Silence Python's warning (3.12 and newer) that forking a multi-threaded process
    "may lead to deadlocks": a notebook kernel always runs threads, and the workers only
    train with one thread of their own (see the module docstring)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks",
                                category=DeprecationWarning)
        yield


def can_spawn() -> bool:
    """Whether workers can start here. Forked ones always can; spawned ones re-import
    ``__main__`` from its file, so a program read from stdin or typed into ``python -c``
    cannot have them (notebooks, scripts and pytest can)."""
    if start_method() == "fork":
        return True
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or os.path.isfile(path)


def worker_count(jobs: int) -> int:
    """How many worker processes to run ``jobs`` independent jobs in.

    One per usable core, at most one per job; 1 (run in this process) inside a worker,
    where workers cannot start (:func:`can_spawn`), or when ``UIM_WORKERS`` says so
    (``UIM_WORKERS=1`` turns process pools off).
    """
    if type(jobs) is not int or jobs < 0:
        raise ValueError(f"jobs must be an int >= 0, got {jobs!r}")
    if in_worker() or not can_spawn():
        return 1
    limit = os.environ.get("UIM_WORKERS", "")
    if limit:
        if not limit.isdigit() or int(limit) < 1:
            raise ValueError(f"UIM_WORKERS must be a whole number >= 1, got {limit!r}")
        cores = int(limit)
    else:
        cores = usable_cores()
    return max(1, min(jobs, cores))


def resolve_workers(workers: int | None, jobs: int) -> int:
    """``workers`` checked (an int >= 1), or :func:`worker_count` of ``jobs`` if ``None``."""
    if workers is None:
        return worker_count(jobs)
    if type(workers) is not int or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    return workers


PARENT_POLL_SECONDS = 1.0
"""How often a worker checks that the process that started it is still alive."""


def _exit_with_parent(parent: int) -> None:
    """Exit this process as soon as ``parent`` is no longer its parent (it died)."""
    while True:
        time.sleep(PARENT_POLL_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def init_worker() -> None:
    """Initialise a worker process: one thread each (OpenMP, BLAS, torch), no nested pools,
    and an exit when the parent dies.

    Several worker processes on few cores each running a thread per core would
    oversubscribe the CPU and spin-wait. A pool's workers outlive a parent that is killed
    (``kill``, a stopped notebook kernel) and would keep training and holding memory; a
    daemon thread ends them within :data:`PARENT_POLL_SECONDS` of the parent's death.
    """
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True,
                     name="exit-with-parent").start()
    os.environ[WORKER_ENV] = "1"
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


_STEP_COUNTER: Any = None


def _init_counting_worker(counter: Any) -> None:
    """Start a :func:`run_in_workers` worker: one thread, and the shared step counter."""
    global _STEP_COUNTER
    init_worker()
    _STEP_COUNTER = counter


def count_step() -> None:
    """Count one step towards the progress bar of :func:`run_in_workers` (no-op elsewhere)."""
    if _STEP_COUNTER is not None:
        with _STEP_COUNTER.get_lock():
            _STEP_COUNTER.value += 1


class WorkerPool:
    """Worker processes of one thread, kept for several :func:`run_in_workers` calls.

    Starting a spawned worker costs seconds (it imports torch and open_clip afresh; a
    forked one does not, see :func:`start_method`); a chapter that trains models and then
    fine-tunes them pays it once with one pool. Processes start at the first job. Use as
    a context manager (the workers end on exit), and run one :func:`run_in_workers` call
    at a time on it (they share its step counter).

    Parameters
    ----------
    workers : int
        Worker processes, at least 1.
    """

    def __init__(self, workers: int) -> None:
        if type(workers) is not int or workers < 1:
            raise ValueError(f"workers must be an int >= 1, got {workers!r}")
        ctx = mp_context()
        self.workers = workers
        self.counter = ctx.Value("q", 0)
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_counting_worker,
                                            initargs=(self.counter,))

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the worker processes (after their running jobs)."""
        self.executor.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def worker_pool(jobs: int) -> Iterator[WorkerPool | None]:
    """A :class:`WorkerPool` of :func:`worker_count` ``(jobs)`` processes, or None where that
    count is 1 (inside a worker, where workers cannot start, ``UIM_WORKERS=1``)."""
    n = worker_count(jobs)
    if n == 1:
        yield None
        return
    with WorkerPool(n) as pool:
        yield pool


def run_in_workers(fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]], workers: int, total_steps: int,
                   desc: str, progress: bool = True, pool: WorkerPool | None = None) -> list[Any]:
    """``[fn(*job) for job in jobs]``, computed in ``workers`` worker processes of one thread.

    ``fn`` must be importable (a module-level function) and its arguments picklable; it
    reports progress by calling :func:`count_step`, and one progress bar here counts the
    steps of all jobs (``total_steps`` in all). A job's error is raised here.

    Parameters
    ----------
    fn : callable
    jobs : sequence of argument tuples
    workers : int
        Worker processes, at least 1 (ignored with ``pool``: its own).
    total_steps : int
        Steps the jobs will count in all (the bar's total).
    desc : str
        The progress bar's label.
    progress : bool
    pool : WorkerPool, optional
        Run in these (running or to be started) processes instead of new ones.
    """
    if pool is None:
        with WorkerPool(workers) as own:
            return run_in_workers(fn, jobs, workers, total_steps, desc, progress, pool=own)
    from tqdm.auto import tqdm

    counter = pool.counter
    with counter.get_lock():
        counter.value = 0
    bar = tqdm(total=total_steps, desc=desc, disable=not progress, leave=False)
    with quiet_fork():  # the first submit starts the workers
        futures = [pool.executor.submit(fn, *job) for job in jobs]
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            for fut in done:
                fut.result()  # re-raise a worker's error here
            bar.n = counter.value
            bar.refresh()
    finally:
        for fut in pending:
            fut.cancel()
        bar.close()
    return [fut.result() for fut in futures]


__all__ = ["START_METHOD_ENV", "THREADS", "WORKER_ENV", "WorkerPool", "can_spawn", "count_step", "in_worker",
           "init_worker", "limited_threads", "mp_context", "quiet_fork", "resolve_workers", "run_in_workers",
           "start_method", "usable_cores", "worker_count", "worker_pool"]
