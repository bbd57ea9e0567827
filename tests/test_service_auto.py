"""``serve --task auto`` / ``worker --task auto``: each pushed model queued on the task its Hub
pipeline tag names.

What is simulated, and only that: the Hub's HTTP side (tests/hub_server.py, a loopback server; the
real huggingface_hub client asks it for each model's pipeline tag). The state is a real SQLite
file; the tag -> task mapping is the real one (optimum's synonyms).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_server import HubServer, running_hub

from energy_badge import hub as hub_module
from energy_badge.bulk.job import BulkConfig
from energy_badge.hub import HubClient, RetryPolicy
from energy_badge.service.store import ServiceState
from energy_badge.service.worker import ServiceWorker
from energy_badge.workload import canonical_spec

CARD = b"---\nlicense: mit\n---\n\n# A model\n"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice")
        for name, tag in (
            ("cls", "text-classification"),
            ("emb", "feature-extraction"),
            ("mlm", "fill-mask"),
        ):
            server.create_repo(f"alice/{name}", {"README.md": CARD}, pipeline_tag=tag)
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


def test_pushes_are_queued_on_each_models_task_and_the_worker_sees_them_all(hub, tmp_path):
    state = str(tmp_path / "svc.sqlite")
    client = HubClient(endpoint=hub.url, retry=RetryPolicy(max_attempts=1))
    service = ServiceState(state, task="auto", hardware_class="H100", hub=client)
    try:
        queued = {m: service.enqueue(m, hub.head(m)) for m in ("alice/cls", "alice/emb", "alice/mlm")}
        assert queued["alice/cls"].status == queued["alice/emb"].status == "queued"
        assert queued["alice/mlm"].status == "ignored"
        assert "pipeline tag 'fill-mask' names no task" in str(queued["alice/mlm"].reason)
        rows = {r.model: r for r in service.store().rows(None, light=True)}
        assert set(rows) == {"alice/cls", "alice/emb"}
        assert rows["alice/cls"].task == "text-classification"
        assert rows["alice/emb"].task == "sentence-similarity"
        assert rows["alice/emb"].workload_version == canonical_spec("sentence-similarity").version
    finally:
        service.close()

    worker = ServiceWorker(state, BulkConfig(task="auto", hardware_class="H100", energy=False))
    worker.open()
    try:
        assert {k.task for k in worker.keys} >= {"text-classification", "sentence-similarity"}
        assert sorted(worker.due_rows()) == sorted(r.id for r in rows.values())
    finally:
        worker.close()
