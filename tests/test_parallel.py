"""Threads and workers: the thread limit is applied and lifted, worker counts follow the rules."""

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
    with pytest.raises(ValueError, match="threads must be an int >= 1"):
        with parallel.limited_threads(bad):
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
