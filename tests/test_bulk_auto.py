"""``--task auto`` in bulk: each model measured on the task its Hub pipeline tag names.

What is simulated, and only that:
- the Hub's HTTP side (tests/hub_server.py, a loopback server; the real huggingface_hub client finds
  it through HF_ENDPOINT / endpoint=): its model listing and model info report each repo's
  ``pipeline_tag`` as the test sets it;
- the measurement (library-level test): injected, returning SYNTHETIC results from
  tests/results_factory.py for the task the job asked for. The tag -> task mapping is the real
  one (optimum's TasksManager synonyms, from the table generated from it and checked against
  it by tests/test_optimum_table.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_clock import FakeClock
from hub_server import HubServer, running_hub
from results_factory import make_result

from energy_badge import hub as hub_module
from energy_badge.bulk.inputs import ModelRef
from energy_badge.bulk.job import BulkConfig, BulkJob
from energy_badge.bulk.report import write_reports
from energy_badge.bulk.state import StateStore
from energy_badge.cli import main
from energy_badge.errors import UsageError
from energy_badge.run.fit import REFUSED_SYNONYMS
from energy_badge.workload import canonical_spec

CARD = b"---\nlicense: mit\n---\n\n# A model\n"
TAGS = {
    "alice/cls": "text-classification",
    "alice/emb": "feature-extraction",
    "alice/st": "sentence-similarity",
    "alice/mlm": "fill-mask",
    "alice/untagged": None,
}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice")
        for model, tag in TAGS.items():
            server.create_repo(model, {"README.md": CARD}, pipeline_tag=tag)
        for name, tag in (("blip-base", "image-to-text"), ("blip-large", "image-to-text"),
                          ("blip-itm", "zero-shot-image-classification")):  # fmt: skip
            server.create_repo(f"alice/{name}", {"README.md": CARD}, pipeline_tag=tag)
        hub_module.clear_account_cache()
        yield server
    hub_module.clear_account_cache()


class Measured:
    """The injected measuring step: records (model, task) and returns a SYNTHETIC result of that task."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, model: str, task: str, options) -> dict:
        self.calls.append((model, task))
        data = make_result(model_id=model, task=task, samples=(0.79, 0.8, 0.81))
        data["model"]["revision"] = options.revision
        return data


def test_a_model_file_is_measured_per_pipeline_tag_and_untaggable_models_are_skipped_with_the_reason(
    hub, tmp_path
):
    """A model file (no tags in it: each line is looked up once on the Hub, which also resolves its
    revision): feature-extraction and sentence-similarity both run the sentence-similarity
    workload; fill-mask (several tasks fit) and an untagged model are skipped with the reason, a
    missing model fails as without auto; a second run redoes nothing (nor looks the missing one up)."""
    clock, measure = FakeClock(), Measured()
    models = [*TAGS, "alice/missing"]
    refs = [ModelRef(m, None, f"models.txt:{i}") for i, m in enumerate(models, 1)]
    config = BulkConfig(task="auto", publish="none", hardware_class="H100", endpoint=hub.url)
    with StateStore(tmp_path / "s.sqlite") as state:
        job = BulkJob(state, config, measure=measure, sleep=clock.sleep, clock=clock)
        plan, summary = job.execute(refs)
        rows = {r.model: r for r in state.rows(plan.row_ids, light=True)}
        assert plan.task == "auto" and summary.measured == 3
        assert sorted(measure.calls) == [
            ("alice/cls", "text-classification"),
            ("alice/emb", "sentence-similarity"),
            ("alice/st", "sentence-similarity"),
        ]
        for model, task in measure.calls:
            row = rows[model]
            assert (row.task, row.status, row.revision) == (task, "measured", hub.head(model))
            assert row.workload_version == canonical_spec(task).version
        assert (rows["alice/mlm"].status, rows["alice/mlm"].reason_code) == ("skipped", "no-task")
        assert "pipeline tag 'fill-mask' names no task energy-badge measures" in rows["alice/mlm"].reason
        assert rows["alice/untagged"].status == "skipped"
        assert rows["alice/untagged"].reason == "the model has no pipeline tag on the Hub: give --task"
        assert (rows["alice/missing"].status, rows["alice/missing"].reason_code) == ("failed", "not-found")
        csv_path, html_path = write_reports(state, tmp_path / "report")
        assert "names no task energy-badge measures" in html_path.read_text(encoding="utf-8")

        missing_reads = hub.count("GET", r"/api/models/alice/missing")
        again, summary = BulkJob(state, config, measure=measure, sleep=clock.sleep, clock=clock).execute(refs)
        assert summary.measured == 0 and len(measure.calls) == 3
        assert hub.count("GET", r"/api/models/alice/missing") == missing_reads  # a permanent failure
        assert sorted(again.row_ids) == sorted(plan.row_ids)


def test_tags_optimum_sends_to_feature_extraction_but_whose_models_embed_no_sentences_are_skipped(
    hub, tmp_path
):
    """Simulated: the Hub (pipeline tags set by the test) and the measurement (injected, never
    called here). An image embedder, a mask generator, a pretraining checkpoint and optimum's
    ``default`` tag all map to feature-extraction in optimum, whose workload here embeds sentences:
    each is skipped with the reason, nothing is measured."""
    tags = ("image-feature-extraction", "mask-generation", "pretraining", "default")
    for tag in tags:
        hub.create_repo(f"alice/{tag}", {"README.md": CARD}, pipeline_tag=tag)
    clock, measure = FakeClock(), Measured()
    refs = [ModelRef(f"alice/{tag}", None, f"models.txt:{i}") for i, tag in enumerate(tags, 1)]
    config = BulkConfig(task="auto", publish="none", hardware_class="H100", endpoint=hub.url)
    with StateStore(tmp_path / "s.sqlite") as state:
        plan, summary = BulkJob(state, config, measure=measure, sleep=clock.sleep, clock=clock).execute(refs)
        rows = {r.model: r for r in state.rows(plan.row_ids, light=True)}
    assert measure.calls == [] and summary.measured == 0
    for tag in tags:
        row = rows[f"alice/{tag}"]
        assert (row.status, row.reason_code) == ("skipped", "no-task"), tag
        assert row.reason == f"pipeline tag {tag!r}: {REFUSED_SYNONYMS[tag]}"
    assert "not measured on the sentence-similarity workload" in rows["alice/image-feature-extraction"].reason


def test_bulk_search_blip_pipeline_tag_image_to_text_task_auto(hub, tmp_path):
    """The command of issue 14, against the loopback Hub: the listing carries each model's tag
    (no lookup per model); both BLIP repos tagged image-to-text are planned on that task."""
    state = tmp_path / "blip.sqlite"
    run = CliRunner().invoke(
        main,
        [
            "bulk",
            "--search",
            "blip",
            "--pipeline-tag",
            "image-to-text",
            "--task",
            "auto",
            "--dry-run",
            "--state",
            str(state),
            "--hardware-class",
            "H100",
        ],  # fmt: skip
        catch_exceptions=False,
    )
    assert run.exit_code == 0, run.output
    assert "dry run: planned 2 job(s)" in run.stdout and "2 to measure" in run.stdout
    with StateStore(state, exclusive=False) as store:
        rows = store.rows(None, light=True)
    assert {(r.model, r.task, r.status) for r in rows} == {
        ("alice/blip-base", "image-to-text", "pending"),
        ("alice/blip-large", "image-to-text", "pending"),
    }
    assert {r.workload_version for r in rows} == {canonical_spec("image-to-text").version}
    assert hub.count("GET", r"/api/models/alice/blip") == 0  # the listing said it all


def test_an_unknown_task_is_still_refused():
    with pytest.raises(UsageError, match="one of .* or auto"):
        BulkConfig(task="fill-mask")
