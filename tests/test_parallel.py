"""Threads and workers: the thread limit is applied and lifted, worker counts follow the rules."""

import sys

import pytest
import torch

from uim_utils import parallel


def test_limited_threads_applies_and_restores():
    before = torch.get_num_threads()
    with parallel.limited_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", None])
def test_limited_threads_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="threads must be an int >= 1"), parallel.limited_threads(bad):
        pass


def test_worker_count_rules(monkeypatch):
    monkeypatch.delenv(parallel.WORKER_ENV, raising=False)
    monkeypatch.setenv("UIM_WORKERS", "3")
    assert parallel.worker_count(5) == 3
    assert parallel.worker_count(2) == 2
    assert parallel.worker_count(0) == 1
    monkeypatch.setenv(parallel.WORKER_ENV, "1")  # no pools inside a worker
    assert parallel.worker_count(5) == 1
    monkeypatch.delenv(parallel.WORKER_ENV)
    monkeypatch.delenv("UIM_WORKERS")
    assert parallel.worker_count(64) == min(64, parallel.usable_cores())


@pytest.mark.parametrize("bad", ["0", "two", "-1"])
def test_worker_count_names_a_bad_setting(monkeypatch, bad):
    monkeypatch.delenv(parallel.WORKER_ENV, raising=False)
    monkeypatch.setenv("UIM_WORKERS", bad)
    with pytest.raises(ValueError, match=f"UIM_WORKERS must be a whole number >= 1, got '{bad}'"):
        parallel.worker_count(2)


def test_worker_count_rejects_bad_jobs():
    with pytest.raises(ValueError, match="jobs must be an int >= 0"):
        parallel.worker_count(-1)


def test_resolve_workers(monkeypatch):
    monkeypatch.delenv(parallel.WORKER_ENV, raising=False)
    monkeypatch.setenv("UIM_WORKERS", "2")
    assert parallel.resolve_workers(None, 5) == 2
    assert parallel.resolve_workers(3, 5) == 3
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError, match="workers must be an int >= 1"):
            parallel.resolve_workers(bad, 5)


def _pid_and_steps(steps):
    import os

    for _ in range(steps):
        parallel.count_step()
    return os.getpid()


def test_a_worker_pool_keeps_its_processes_over_calls(monkeypatch):
    import os

    monkeypatch.delenv(parallel.WORKER_ENV, raising=False)
    with parallel.WorkerPool(2) as pool:
        first = parallel.run_in_workers(_pid_and_steps, [(3,), (4,)], 2, 7, "first", progress=False, pool=pool)
        assert pool.counter.value == 7  # every job's steps counted
        second = parallel.run_in_workers(_pid_and_steps, [(1,), (1,)], 2, 2, "second", progress=False, pool=pool)
        assert pool.counter.value == 2  # counted afresh for each call
    assert os.getpid() not in first
    assert len(set(first) | set(second)) <= 2  # the pool's two processes served both calls, no new ones


def test_worker_pool_rules(monkeypatch):
    with pytest.raises(ValueError, match="workers must be an int >= 1, got 0"):
        parallel.WorkerPool(0)
    monkeypatch.delenv(parallel.WORKER_ENV, raising=False)
    monkeypatch.setenv("UIM_WORKERS", "1")
    with parallel.worker_pool(2) as pool:
        assert pool is None  # one worker: run here
    monkeypatch.setenv("UIM_WORKERS", "2")
    with parallel.worker_pool(2) as pool:
        assert isinstance(pool, parallel.WorkerPool) and pool.workers == 2


def test_start_method_forks_on_linux_and_obeys_the_override(monkeypatch):
    monkeypatch.delenv(parallel.START_METHOD_ENV, raising=False)
    assert parallel.start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")
    monkeypatch.setenv(parallel.START_METHOD_ENV, "spawn")
    assert parallel.start_method() == "spawn"
    assert parallel.mp_context().get_start_method() == "spawn"
    for bad in ("forkserver", "threads"):
        monkeypatch.setenv(parallel.START_METHOD_ENV, bad)
        with pytest.raises(ValueError, match=f"UIM_START_METHOD must be 'fork' or 'spawn'.*got '{bad}'"):
            parallel.start_method()


def _conv_in_one_thread(seed):
    import torch

    torch.manual_seed(seed)
    x = torch.randn(64, 8, 16, 16)
    w = torch.randn(16, 8, 3, 3)
    return torch.get_num_threads(), float(torch.nn.functional.conv2d(x, w).square().sum())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_forked_workers_compute_after_the_parent_ran_threads(monkeypatch):
    """torch's OpenMP pool in the parent (two threads) must not hang or change a forked
    worker's one-thread result: the same number as computed here with one thread."""
    monkeypatch.delenv(parallel.WORKER_ENV, raising=False)
    monkeypatch.delenv(parallel.START_METHOD_ENV, raising=False)
    with parallel.limited_threads(2):
        _conv_in_one_thread(1)  # the parent's thread pool is running before the fork
    with parallel.limited_threads(1):
        expected = _conv_in_one_thread(0)
    with parallel.WorkerPool(2) as pool, parallel.quiet_fork():
        futures = [pool.executor.submit(_conv_in_one_thread, 0) for _ in range(2)]
        results = [f.result(timeout=120) for f in futures]
    assert results == [expected, expected] and expected[0] == 1
    assert torch.get_num_threads() >= 1


_ORPHAN_PARENT = r"""
import os, sys, time
from uim_utils import parallel

def report_and_sleep(path):
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(600)

def main():
    parallel.run_in_workers(report_and_sleep, [(sys.argv[1],)], 1, 1, "sleeping", progress=False)

if __name__ == "__main__":
    main()
"""


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def test_a_worker_exits_when_its_parent_is_killed(tmp_path):
    """A killed parent (a stopped kernel, ``kill``) must not leave its pool workers running."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    script, pid_file = tmp_path / "parent.py", tmp_path / "worker.pid"
    script.write_text(_ORPHAN_PARENT)
    root = str(Path(parallel.__file__).resolve().parents[1])
    parent = subprocess.Popen([sys.executable, str(script), str(pid_file)], cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": root})
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (pid_file.exists() and pid_file.read_text()):
            time.sleep(0.2)
        worker = int(pid_file.read_text())
        assert _alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.time() + 5 * parallel.PARENT_POLL_SECONDS + 5
        while time.time() < deadline and _alive(worker):
            time.sleep(0.2)
        assert not _alive(worker), f"worker {worker} outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
