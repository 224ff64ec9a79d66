"""How a lint spreads the architectures' configurations over reader processes
(:class:`memplan.lint.run._ArchReaders`): one reader for every two board workers, each reading
its architectures in the order the board workers need them (the fewest defconfigs first)."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from memplan.lint import run
from memplan.lint.run import ArchJob, _ArchReaders

WEIGHTS = {"arm": 75, "arm64": 1, "riscv": 2, "x86": 40}


def _fake_read_arch(job: ArchJob) -> Any:
    """Which process read ``job`` and when (in place of the configurations)."""
    return os.getpid(), time.monotonic_ns(), job.arch


def _read(workers: int, arches: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[str]]:
    monkeypatch.setattr(run, "read_arch", _fake_read_arch)  # inherited by the forked readers
    jobs = [ArchJob("/tree", a, f"/tree/arch/{a}/configs/defconfig", None, "6.12", None) for a in arches]
    done: list[str] = []
    got = _ArchReaders(workers).read(jobs, WEIGHTS.__getitem__, lambda job, _got: done.append(job.arch))
    return got, done


def test_two_workers_have_one_reader_for_every_architecture(monkeypatch: pytest.MonkeyPatch) -> None:
    got, done = _read(2, ["arm", "arm64", "riscv"], monkeypatch)
    assert [arch for _pid, _when, arch in got] == ["arm", "arm64", "riscv"]  # in the order of the jobs
    assert len({pid for pid, _when, _arch in got}) == 1
    assert got[0][0] != os.getpid()  # not this process: the model stays out of it
    by_time = [arch for _pid, _when, arch in sorted(got, key=lambda g: g[1])]
    assert by_time == ["arm64", "riscv", "arm"]  # the fewest defconfigs first, as the boards go
    assert sorted(done) == ["arm", "arm64", "riscv"]


def test_four_workers_have_two_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    got, _done = _read(4, ["arm", "arm64", "riscv", "x86"], monkeypatch)
    pids = {arch: pid for pid, _when, arch in got}
    assert len(set(pids.values())) == 2
    # the heaviest first, each to the reader with the least so far: arm alone, x86 with the rest
    assert pids["arm"] not in (pids["x86"], pids["arm64"], pids["riscv"])
    assert pids["x86"] == pids["arm64"] == pids["riscv"]
    when = {arch: w for _pid, w, arch in got}
    assert when["arm64"] < when["riscv"] < when["x86"]


def test_one_worker_reads_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    got, done = _read(1, ["riscv", "arm64"], monkeypatch)
    assert {pid for pid, _when, _arch in got} == {os.getpid()}
    assert done == ["riscv", "arm64"]
