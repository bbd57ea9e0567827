"""Prepared inputs shared between models with the same preprocessing (energy_badge.run.prepared).

Nothing is simulated but the models' size: real tiny transformers (tests/tiny_models.py,
tests/tiny_media_models.py: random weights, the real BERT tokenizer of all-MiniLM-L6-v2, a real
ViT image processor), the shipped workloads (their first queries), the real runners and
``measure_model`` (``--no-energy``, on the CPU). The point checked each time: inputs reused from
another model are exactly what this model would have prepared itself, and a model whose
preprocessing differs is never given them.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from tiny_media_models import build_media_model
from tiny_models import build_tiny_model

from energy_badge.run import load_runner
from energy_badge.run.prepared import PreparedCache, default_prepared_cache
from energy_badge.workload import load_workload

QUERIES = 40


def _same_batches(a, b) -> bool:
    """Every batch equal: ids, token counts, and each tensor's dtype, shape and values."""
    import torch

    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x.ids != y.ids or x.input_tokens != y.input_tokens or x.inputs.keys() != y.inputs.keys():
            return False
        for key in x.inputs:
            u, v = x.inputs[key], y.inputs[key]
            if u.dtype != v.dtype or u.shape != v.shape or not torch.equal(u, v):
                return False
    return True


@pytest.fixture(scope="module")
def classifiers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three tiny BERT classifiers: two fine-tunes of one base (same tokenizer and input limit,
    different weights), one whose tokenizer keeps case (its ``tokenizer_config.json`` edited)."""
    root = tmp_path_factory.mktemp("prepared")
    models = {
        "a": build_tiny_model("text-classification", root / "a", seed=1),
        "b": build_tiny_model("text-classification", root / "b", seed=2),
        "cased": build_tiny_model("text-classification", root / "cased", seed=3),
    }
    config_file = models["cased"] / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    config["do_lower_case"] = False
    config_file.write_text(json.dumps(config))
    return models


def _prepare(folder: Path, task: str, cache: PreparedCache | None, **kwargs):
    runner = load_runner(str(folder), task, device="cpu", **kwargs)
    runner.prepare(load_workload(task).subset(QUERIES), cache=cache)
    return runner


def test_a_second_fine_tune_reuses_the_first_ones_inputs_exactly(classifiers):
    """b's tokenizer and settings are a's: b is given a's prepared inputs, recorded with a's id and
    the fingerprint, and they equal what b prepares alone (every tensor, token count and id)."""
    cache = PreparedCache()
    first = _prepare(classifiers["a"], "text-classification", cache)
    assert first.preparation is not None and first.preparation.reused_from is None
    assert first.preparation.fingerprint is not None and len(cache) == 1
    second = _prepare(classifiers["b"], "text-classification", cache)
    assert second.preparation is not None
    assert second.preparation.reused_from == first.info.id
    assert second.preparation.fingerprint == first.preparation.fingerprint
    assert second.preparation.probe_batches >= 8
    alone = _prepare(classifiers["b"], "text-classification", None)
    assert alone.preparation is None  # no cache: nothing recorded
    assert _same_batches(second._batches, alone._batches)
    assert second.input_token_counts == alone.input_token_counts
    assert second.cost_proxy() == alone.cost_proxy()
    # The reused batches are copies: changing one runner's inputs cannot reach another's.
    assert second._batches[0] is not first._batches[0]
    assert second._batches[0].inputs is not first._batches[0].inputs


@pytest.mark.parametrize("other", ["cased tokenizer", "shorter input limit", "batch size 2"])
def test_different_preprocessing_is_never_given_the_inputs(classifiers, tmp_path, other):
    """A tokenizer that keeps case, a model with a shorter input limit (its inputs truncate
    differently), or the same model at batch size 2: each prepares its own inputs (a fingerprint
    of its own, nothing reused)."""
    cache = PreparedCache()
    first = _prepare(classifiers["a"], "text-classification", cache)
    if other == "cased tokenizer":
        runner = _prepare(classifiers["cased"], "text-classification", cache)
    elif other == "shorter input limit":
        short = build_tiny_model("text-classification", tmp_path / "short", seed=1, max_positions=16)
        runner = _prepare(short, "text-classification", cache)
    else:
        runner = _prepare(classifiers["a"], "text-classification", cache, batch_size=2)
    assert runner.preparation is not None and runner.preparation.reused_from is None
    assert runner.preparation.fingerprint != first.preparation.fingerprint
    assert len(cache) == 2


def test_image_models_sharing_a_processor_reuse_decoded_and_resized_pictures(tmp_path):
    """Two tiny ViTs (different weights, the same 32x32 processor) share prepared pixels; a ViT
    whose processor resizes to 48x48 does not."""
    cache = PreparedCache()
    a = build_media_model("image-classification", tmp_path / "a", seed=1)
    b = build_media_model("image-classification", tmp_path / "b", seed=2)
    first = _prepare(a, "image-classification", cache)
    second = _prepare(b, "image-classification", cache)
    assert second.preparation is not None and second.preparation.reused_from == first.info.id
    assert _same_batches(second._batches, _prepare(b, "image-classification", None)._batches)
    assert second.cost_proxy() == first.cost_proxy()
    processor_file = b / "preprocessor_config.json"
    config = json.loads(processor_file.read_text())
    config["size"] = {"height": 48, "width": 48}
    processor_file.write_text(json.dumps(config))
    third = _prepare(b, "image-classification", cache)
    assert third.preparation is not None and third.preparation.reused_from is None


def test_the_cache_stays_within_its_bound():
    """No model: entries over the byte bound are dropped least recently used first; one larger
    than the bound is not kept."""
    from energy_badge.run.prepared import Prepared

    def entry(n: int) -> Prepared:
        return Prepared((), (), 0, (), f"m{n}", 40)

    cache = PreparedCache(max_bytes=100)
    cache.put("a", entry(1))
    cache.put("b", entry(2))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", entry(3))
    assert (cache.get("a") is not None, cache.get("b"), cache.get("c") is not None) == (True, None, True)
    cache.put("big", Prepared((), (), 0, (), "big", 101))
    assert cache.get("big") is None and len(cache) == 2


def test_bulk_measurements_record_the_reuse_in_the_result(classifiers, tmp_path):
    """``measure_model`` as bulk runs it (``reuse_inputs``, performance only, 20 queries): the
    second fine-tune's result says whose inputs it reused; the result is written (schema-checked)
    and read back with it. ``measure``'s default neither reuses nor records."""
    from energy_badge.measure import MeasureOptions, measure_model
    from energy_badge.meter import MeterConfig
    from energy_badge.result import encode_result, load_result, write_result

    default_prepared_cache().clear()
    meter = MeterConfig(
        min_repetitions=1, max_repetitions=1, min_window_s=0.01, idle_seconds=0, warmup_max_s=0
    )
    options = MeasureOptions(energy=False, queries=20, device="cpu", meter=meter, reuse_inputs=True)
    try:
        first = measure_model(str(classifiers["a"]), "text-classification", options)
        second = measure_model(str(classifiers["b"]), "text-classification", options)
    finally:
        default_prepared_cache().clear()
    assert first.workload.preparation is not None and first.workload.preparation.reused_from is None
    assert second.workload.preparation is not None
    assert second.workload.preparation.reused_from == first.model.id
    path = tmp_path / "b.json"
    write_result(second, path)
    assert json.loads(path.read_text())["workload"]["preparation"]["reused_from"] == first.model.id
    assert load_result(path).workload.preparation == second.workload.preparation
    plain = measure_model(
        str(classifiers["b"]),
        "text-classification",
        MeasureOptions(energy=False, queries=20, device="cpu", meter=meter),
    )
    assert plain.workload.preparation is None
    assert "preparation" not in encode_result(plain)["workload"]


def test_the_fingerprint_covers_the_whole_preprocessing_state(classifiers):
    """Beyond the probe: the serialised state of a tokenizer is the same for the same files read
    from two folders (paths are left out), differs for a tokenizer that keeps case, and a
    different state alone changes the fingerprint of identical probe batches. An object that
    cannot be serialised gives no state (then nothing is shared)."""
    from transformers import AutoTokenizer

    from energy_badge.run.prepared import fingerprint, preprocessing_state

    def state(name: str) -> str | None:
        return preprocessing_state(AutoTokenizer.from_pretrained(str(classifiers[name])), None)

    assert state("a") is not None and state("a") == state("b")
    assert state("cased") != state("a")
    runner = _prepare(classifiers["a"], "text-classification", None)
    probe = runner._batches[:3]
    settings = {"runner": "x"}
    assert fingerprint(settings, state("a"), probe) == fingerprint(settings, state("b"), probe)
    assert fingerprint(settings, state("a"), probe) != fingerprint(settings, state("cased"), probe)
    assert fingerprint(settings, state("a"), probe) != fingerprint({"runner": "y"}, state("a"), probe)
    assert preprocessing_state(object(), None) is None


class _Gate:
    """The prefetcher's window gate, opened and closed by the test; notes when it is asked."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.asked = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.set()
        return self.open.wait(timeout)


def test_the_prefetcher_prepares_the_next_models_inputs_ahead_without_its_weights(
    classifiers, monkeypatch, tmp_path
):
    """Simulated besides the model's size: the Hub (the loopback server, tests/hub_server.py).
    The bulk run's hook (``prepare_ahead_for``) prepares a queued Hub model's inputs in the
    prefetcher's thread, for the task and options of its row, on a weightless copy of its runner
    (the server never serves its weights until the measurement), and waits while a measured window
    is open (the gate closed: nothing is prepared until it opens). The measurement then finds them:
    its result records the model's own id as ``reused_from``."""
    from types import SimpleNamespace

    from hub_server import folder_files, running_hub
    from huggingface_hub import constants

    from energy_badge.bulk.config import BulkConfig
    from energy_badge.bulk.prefetch import Prefetcher, prepare_ahead_for
    from energy_badge.measure import MeasureOptions, measure_model
    from energy_badge.meter import MeterConfig

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))  # nothing downloaded yet
    cache = default_prepared_cache()
    cache.clear()
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice")
        server.create_repo("alice/queued", folder_files(classifiers["a"]))
        sha = server.head("alice/queued")
        row = SimpleNamespace(model="alice/queued", revision=sha, task="text-classification")
        config = BulkConfig(task="text-classification", queries=20, endpoint=server.url)
        gate = _Gate()
        nothing = lambda model, revision, pause: 0  # noqa: E731 - the files are not fetched ahead here
        pre = Prefetcher(
            nothing, quiet=gate, after=prepare_ahead_for(SimpleNamespace(rows={7: row}, config=config))
        )  # type: ignore[arg-type]
        try:
            pre.want([("alice/queued", sha)])
            assert gate.asked.wait(10)
            assert len(cache) == 0  # a window is open: nothing prepared
            gate.open.set()
            assert pre.wait_idle(60)
            assert pre.failed == [] and len(cache) == 1
            weight_requests = lambda: sum(server.count(m, r"safetensors") for m in ("GET", "HEAD"))  # noqa: E731
            assert weight_requests() == 0  # no weight was asked for
            meter = MeterConfig(
                min_repetitions=1, max_repetitions=1, min_window_s=0.01, idle_seconds=0, warmup_max_s=0
            )
            options = MeasureOptions(
                revision=sha,
                energy=False,
                queries=20,
                device="cpu",
                meter=meter,
                reuse_inputs=True,
                endpoint=server.url,
            )
            result = measure_model("alice/queued", "text-classification", options)
            assert weight_requests() >= 1  # the measurement asked for its weights
        finally:
            pre.close()
            cache.clear()
    assert result.workload.preparation is not None
    assert result.workload.preparation.reused_from == result.model.id == "alice/queued"


def test_a_failure_while_preparing_ahead_is_recorded_not_raised(tmp_path):
    """A queued model whose tokenizer files are missing: the hook's error is recorded against it
    (the measurement meets and reports the same), the thread goes on with the next model."""
    from energy_badge.bulk.prefetch import Prefetcher

    calls: list[str] = []

    def after(model: str, revision: str, pause) -> None:
        calls.append(model)
        if model == "org/broken":
            raise OSError("no tokenizer")

    opened = threading.Event()
    opened.set()
    pre = Prefetcher(lambda model, revision, pause: 1, quiet=opened, after=after)
    try:
        pre.want([("org/broken", "1")])
        assert pre.wait_idle()
        pre.want([("org/fine", "1")])
        assert pre.wait_idle()
    finally:
        pre.close()
    assert calls == ["org/broken", "org/fine"]
    assert [(m, "preparing its inputs" in why and "no tokenizer" in why) for m, _, why in pre.failed] == [
        ("org/broken", True)
    ]
    assert [p.model for p in pre.done] == ["org/broken", "org/fine"]  # the files stay fetched
