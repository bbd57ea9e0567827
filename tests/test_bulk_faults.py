"""Bulk runs under faults: a Hub that refuses connections, a machine that cannot measure, a state
reached through a symlink.

What is simulated, and only that: the Hub's HTTP side (tests/hub_server.py on loopback; the port of
a stopped server for a Hub that refuses connections), the GPU (tests/fake_nvml.py: a machine without
the NVIDIA driver), and time (FakeClock: the gateway's retry waits are recorded, never slept). The state
files, their locks and the symlinks are real files.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import cli
from fake_clock import FakeClock
from fake_nvml import install_fake_nvml
from hub_server import HubServer, running_hub

from energy_badge import hub as hub_module
from energy_badge.bulk.inputs import ModelRef
from energy_badge.bulk.job import BulkConfig, BulkJob
from energy_badge.bulk.state import StateStore
from energy_badge.errors import UsageError
from energy_badge.hub.client import HubUnreachableError

TOKEN = "hf_botToken0123456789abcdefghijkl"
NO_ENERGY = ["--no-energy", "--queries", "5", "--idle-seconds", "0"]


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice")
        server.add_user("bot", TOKEN)
        server.create_repo("alice/m0", {"README.md": b"# m0\n", "config.json": b"{}"})
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


@pytest.fixture
def dead_hub(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The URL of a Hub that refuses connections (a stopped loopback server's port)."""
    url = hub.url
    hub.stop()
    monkeypatch.setenv("HF_ENDPOINT", url)
    return url


def leftovers(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(name))


# ------------------------------------------------------------------------------------------------
# A Hub that refuses connections from the start: exit 5 at once, one line, nothing left behind


def test_planning_stops_at_once_when_the_hub_refuses_the_first_lookup(dead_hub, tmp_path):
    """No retry waits and no model marked failed: the Hub is down, not the models."""
    clock = FakeClock()
    config = BulkConfig(task="text-classification", publish="none", hardware_class="H100", endpoint=dead_hub)
    with StateStore(tmp_path / "bot.sqlite") as state:
        job = BulkJob(state, config, measure=lambda *a: {}, sleep=clock.sleep, clock=clock)
        refs = [ModelRef(f"alice/m{i}", None, f"test:{i}") for i in range(20)]
        with pytest.raises(HubUnreachableError, match=f"cannot reach the Hub at {dead_hub}"):
            job.plan(refs)
        assert clock.sleeps == []
        assert state.rows() == []
        (run,) = state.runs()
        assert run["outcome"].startswith("failed: cannot reach the Hub")


@pytest.mark.parametrize("token", [None, TOKEN])
def test_a_model_list_with_an_unreachable_hub_exits_5_with_one_line(dead_hub, tmp_path, monkeypatch, token):
    if token:
        monkeypatch.setenv("HF_TOKEN", token)  # then the token check is the first request
    models = tmp_path / "models.txt"
    models.write_text("alice/m0\nalice/m1\n", encoding="utf-8")
    code, out, err = cli("bulk", models, "--task", "text-classification", "--state", tmp_path / "bot.sqlite",
                         *NO_ENERGY)  # fmt: skip
    assert code == 5, out + err
    assert len(err.splitlines()) == 1 and err.startswith(f"error: cannot reach the Hub at {dead_hub}")
    assert out == ""
    assert leftovers(tmp_path, "bot") == []  # the state this run created, and its lock, are gone


def test_a_hub_query_with_an_unreachable_hub_exits_5_without_the_librarys_retries(
    dead_hub, tmp_path, monkeypatch, caplog
):
    """huggingface_hub's list_models retried each page 5 times itself (1+2+4+8+8 s, a log line each)
    inside each of our 4 tries: 101 s and 46 lines. Its waits would land on this FakeClock."""
    clock = FakeClock()
    monkeypatch.setattr(time, "sleep", clock.sleep)
    caplog.set_level(logging.DEBUG)
    code, out, err = cli("bulk", "--search", "bert", "--task", "text-classification", "--dry-run",
                         "--state", tmp_path / "bot.sqlite")  # fmt: skip
    assert code == 5
    assert err.splitlines() == [
        f"error: cannot reach the Hub at {dead_hub} to list models (search='bert', author=None, "
        "pipeline_tag=None) (ConnectError: [Errno 111] Connection refused)"
    ]
    assert clock.sleeps == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert leftovers(tmp_path, "bot") == []


# ------------------------------------------------------------------------------------------------
# A run that cannot measure (exit 3) leaves no empty state and no lock


def test_a_run_that_cannot_measure_here_leaves_no_state_behind(hub, tmp_path, monkeypatch):
    import pynvml

    install_fake_nvml(monkeypatch, init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)  # no NVIDIA driver
    models = tmp_path / "models.txt"
    models.write_text("alice/m0\n", encoding="utf-8")
    code, _, err = cli("bulk", models, "--task", "text-classification", "--state", tmp_path / "new.sqlite")
    assert code == 3 and err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert leftovers(tmp_path, "new") == []

    # a state that was there before is never removed, even when this run adds nothing to it
    with StateStore(tmp_path / "old.sqlite") as state:
        state.insert_many(
            [
                {
                    "model": "alice/m0",
                    "revision": "a" * 40,
                    "task": "text-classification",
                    "workload_version": "1",
                    "hardware_class": "H100",
                    "status": "measured",
                }
            ]  # fmt: skip
        )
    code, _, _ = cli("bulk", models, "--task", "text-classification", "--state", tmp_path / "old.sqlite")
    assert code == 3
    assert leftovers(tmp_path, "old") == ["old.sqlite"]
    assert sqlite3.connect(tmp_path / "old.sqlite").execute("SELECT COUNT(*) FROM jobs").fetchone() == (1,)


def test_an_empty_state_that_existed_before_is_kept(tmp_path):
    StateStore(tmp_path / "s.sqlite").close()
    state = StateStore(tmp_path / "s.sqlite")
    assert not state.created
    state.discard()
    assert leftovers(tmp_path, "s.") == ["s.sqlite"]


# ------------------------------------------------------------------------------------------------
# The lock is the real file's


def test_a_symlink_to_a_state_in_use_is_refused(hub, tmp_path):
    real = tmp_path / "bot.sqlite"
    (tmp_path / "links").mkdir()
    link = tmp_path / "links" / "other-name.sqlite"
    link.symlink_to(real)
    dir_link = tmp_path / "folder-link"
    dir_link.symlink_to(tmp_path, target_is_directory=True)
    models = tmp_path / "models.txt"
    models.write_text("alice/m0\n", encoding="utf-8")
    with StateStore(real):  # a first run holds the state
        for other in (link, dir_link / "bot.sqlite"):
            with pytest.raises(UsageError, match="in use by another bulk run"):
                StateStore(other)
            code, _, err = cli("bulk", models, "--task", "text-classification", "--state", other, *NO_ENERGY)
            assert code == 2 and f"(pid {os.getpid()})" in err
        assert sorted(p.name for p in tmp_path.glob("*.lock")) == ["bot.sqlite.lock"]
        assert not list((tmp_path / "links").glob("*.lock"))
    assert not list(tmp_path.glob("*.lock"))  # released: the lock file goes with the lock
    with StateStore(link) as state:  # through the link, the real file is opened
        assert state.real_path == real.resolve()
        assert (tmp_path / "bot.sqlite.lock").is_file()


def test_a_lock_file_removed_under_a_waiting_opener_is_not_shared(tmp_path, monkeypatch):
    """The lock file goes when its lock is released, so an opener can lock a file that was just
    removed: it must then lock the file now at the path, or two runs would both hold "the" lock.
    The interleaving is forced: the first holder releases between the opener's open() and flock()."""
    import fcntl

    real = tmp_path / "s.sqlite"
    first = StateStore(real)
    flock = fcntl.flock
    calls = []

    def release_first_then_flock(fd: int, operation: int) -> None:
        if not calls:
            first.close()  # unlinks the lock file the opener has just opened
        calls.append(fd)
        flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", release_first_then_flock)
    second = StateStore(real)
    monkeypatch.setattr(fcntl, "flock", flock)
    try:
        assert len(calls) == 2  # the removed file's lock was dropped, the new file's taken
        with pytest.raises(UsageError, match="in use"):
            StateStore(real)
    finally:
        second.close()
