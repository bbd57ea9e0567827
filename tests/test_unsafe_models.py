"""Loading refuses pickle and out-of-folder files whatever the model folder holds (issue 13, item 4).

Every weight file a run reads is a safetensors file unless ``--allow-pickle`` is given; with it, a
pickle that would run code is a one-line error; no file is read through a path or a link that leads
out of the model folder; and the content hash pins exactly the files read.

What is simulated, and only that: the Hub, as a loopback HTTP server (tests/hub_server.py) that the
real huggingface_hub client downloads from. The models are real tiny transformers
(tests/tiny_models.py); the hostile files are real pickles (whose unpickling would create a marker
file), links, FIFOs, indexes and configs; transformers, torch and the CLI run for real.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from energy_badge.cli import main
from energy_badge.errors import InvalidFileError, UnsafeModelError
from energy_badge.run import load_runner

try:
    import tiny_models as tm
    from hub_server import HubServer, folder_files, running_hub
except ImportError:  # pragma: no cover - when tests/ is imported as a package
    from tests import tiny_models as tm
    from tests.hub_server import HubServer, folder_files, running_hub

TASK = "text-classification"
INDEX = "model.safetensors.index.json"


class CreatesFile:
    """A pickled instance of this calls ``open(path, "w")`` when unpickled: the file appears only if
    the pickle really ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (self.path, "w"))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny sequence classifier, built once; tests work on copies."""
    return tm.build_tiny_model(TASK, tmp_path_factory.mktemp("unsafe") / "base")


def copy_of(base: Path, dest: Path) -> Path:
    shutil.copytree(base, dest)
    return dest


def tensors(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def write_index(folder: Path, weight_map: dict[str, str]) -> None:
    (folder / INDEX).write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stderr


def assert_one_error_line(stderr: str) -> str:
    """stderr ends with exactly one ``error:`` line, and holds no traceback or warning."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr and "Warning" not in stderr, stderr
    assert [line for line in lines if "error" in line.lower()] == [lines[-1]], stderr
    assert lines[-1].startswith("error: ")
    return lines[-1]


# ------------------------------------------------------------------------------------------------
# A shard index decides which files transformers opens


@pytest.mark.parametrize("shard", ["pytorch_model.bin", "weights.pt", "part.index.json"])
def test_an_index_cannot_lead_to_pickle_weights(base: Path, tmp_path: Path, shard: str) -> None:
    import torch

    folder = copy_of(base, tmp_path / "model")
    weights = tensors(folder)
    torch.save(weights, folder / shard)
    (folder / "model.safetensors").unlink()
    write_index(folder, dict.fromkeys(weights, shard))
    with pytest.raises(UnsafeModelError, match="--allow-pickle") as caught:
        load_runner(str(folder), TASK)
    assert shard in str(caught.value)
    if shard == "pytorch_model.bin":  # allowed, it loads, and the result says pickle was allowed
        assert load_runner(str(folder), TASK, allow_pickle=True).info.allow_pickle is True


def test_measure_refuses_an_index_leading_to_pickle(base: Path, tmp_path: Path) -> None:
    """The CLI as issue 13 found it: no --allow-pickle, a result recording allow_pickle false."""
    import torch

    folder = copy_of(base, tmp_path / "model")
    weights = tensors(folder)
    torch.save(weights, folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    write_index(folder, dict.fromkeys(weights, "pytorch_model.bin"))
    out = tmp_path / "r.json"
    code, stderr = run_cli(
        "measure", str(folder), "--task", TASK, "--no-energy", "--queries", "5", "-o", str(out)
    )
    assert code == 4 and not out.exists()
    assert "pytorch_model.bin" in assert_one_error_line(stderr)


@pytest.mark.parametrize("where", ["../outside/model.safetensors", "ABSOLUTE", "sub/../../outside/x"])
def test_an_index_cannot_lead_out_of_the_folder(base: Path, tmp_path: Path, where: str) -> None:
    folder = copy_of(base, tmp_path / "model")
    (tmp_path / "outside").mkdir()
    shutil.move(folder / "model.safetensors", tmp_path / "outside" / "model.safetensors")
    shutil.copy(tmp_path / "outside" / "model.safetensors", tmp_path / "outside" / "x")
    shard = str(tmp_path / "outside" / "model.safetensors") if where == "ABSOLUTE" else where
    write_index(folder, dict.fromkeys(tensors(tmp_path / "outside"), shard))
    with pytest.raises(UnsafeModelError, match="index.json names a weight file outside the model folder"):
        load_runner(str(folder), TASK)


def test_the_content_hash_pins_exactly_the_files_read(base: Path, tmp_path: Path) -> None:
    """Shards named freely by the index are hashed (a changed byte changes the hash); shard-like
    files the index does not name are neither read nor hashed."""
    from safetensors.torch import save_file

    folder = copy_of(base, tmp_path / "model")
    weights = tensors(folder)
    (folder / "model.safetensors").unlink()
    keys = sorted(weights)
    half = {k: ("weights-a.safetensors" if i % 2 else "weights-b.safetensors") for i, k in enumerate(keys)}
    for shard in set(half.values()):
        save_file({k: weights[k] for k in keys if half[k] == shard}, str(folder / shard), {"format": "pt"})
    write_index(folder, half)
    first = load_runner(str(folder), TASK).info.content_sha256
    save_file({"x": weights[keys[0]]}, str(folder / "model-00009-of-00009.safetensors"), {"format": "pt"})
    assert load_runner(str(folder), TASK).info.content_sha256 == first
    changed = dict(weights)
    changed[keys[1]] = weights[keys[1]] + 1
    save_file(
        {k: changed[k] for k in keys if half[k] == "weights-a.safetensors"},
        str(folder / "weights-a.safetensors"),
    )
    assert load_runner(str(folder), TASK).info.content_sha256 != first


def test_files_outside_the_plan_are_never_read(base: Path, tmp_path: Path) -> None:
    """A file named like a distributed checkpoint shard makes transformers read every
    ``*.safetensors`` in the folder; only the planned weights reach the model."""
    from safetensors.torch import save_file

    folder = copy_of(base, tmp_path / "model")
    weights = tensors(folder)
    head = {k: v for k, v in weights.items() if k.startswith("classifier.")}
    save_file({k: v for k, v in weights.items() if k not in head}, str(folder / "model.safetensors"))
    sevens = {k: v * 0 + 7 for k, v in head.items()}
    save_file(sevens, str(folder / "shard-00000-model-00001-of-00001.safetensors"), {"format": "pt"})
    runner = load_runner(str(folder), TASK)
    assert not bool((runner.model.classifier.weight == 7).all())
    assert runner.info.note is not None and "classifier" in runner.info.note


# ------------------------------------------------------------------------------------------------
# config.json and file contents


@pytest.mark.parametrize("named", ["adapter_model.bin", "../outside/model.safetensors"])
def test_config_transformers_weights_cannot_lead_to_pickle_or_out(
    base: Path, tmp_path: Path, named: str
) -> None:
    import torch

    folder = copy_of(base, tmp_path / "model")  # model.safetensors stays: transformers would skip it
    (tmp_path / "outside").mkdir()
    torch.save(tensors(folder), folder / "adapter_model.bin")
    shutil.copy(folder / "model.safetensors", tmp_path / "outside" / "model.safetensors")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(config | {"transformers_weights": named}))
    with pytest.raises(UnsafeModelError, match="--allow-pickle" if named.endswith(".bin") else "outside"):
        load_runner(str(folder), TASK)
    if named.endswith(".bin"):
        assert load_runner(str(folder), TASK, allow_pickle=True).info.allow_pickle is True


def test_a_safetensors_name_holding_a_pickle_is_never_unpickled(base: Path, tmp_path: Path) -> None:
    import torch

    marker = tmp_path / "unpickled"
    folder = copy_of(base, tmp_path / "model")
    torch.save({"w": CreatesFile(marker)}, folder / "model.safetensors")
    for allow_pickle in (False, True):
        with pytest.raises(InvalidFileError, match="'model.safetensors' is not a safetensors file"):
            load_runner(str(folder), TASK, allow_pickle=allow_pickle)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["torch.save", "pickle protocol 4"])
def test_a_malicious_pickle_with_allow_pickle_is_one_error_line(
    base: Path, tmp_path: Path, kind: str
) -> None:
    """torch.load's weights_only refuses it; the CLI says so in one line and exits 4."""
    import torch

    marker = tmp_path / "unpickled"
    folder = copy_of(base, tmp_path / "model")
    (folder / "model.safetensors").unlink()
    payload = {"bert.embeddings.word_embeddings.weight": CreatesFile(marker)}
    if kind == "torch.save":
        torch.save(payload, folder / "pytorch_model.bin")
    else:
        (folder / "pytorch_model.bin").write_bytes(pickle.dumps(payload, protocol=4))
    out = tmp_path / "r.json"
    with warnings.catch_warnings(record=True) as seen:  # what would reach stderr outside pytest
        warnings.simplefilter("always")
        code, stderr = run_cli(
            "measure", str(folder), "--task", TASK, "--no-energy", "--allow-pickle", "-o", str(out)
        )
    assert code == 4 and not out.exists()
    assert "more than tensors" in assert_one_error_line(stderr)
    assert [str(w.message) for w in seen if "pickle" in str(w.message)] == []
    assert not marker.exists()


# ------------------------------------------------------------------------------------------------
# Links and special files


@pytest.mark.parametrize("linked", ["model.safetensors", "config.json", "tokenizer.json"])
def test_links_out_of_the_folder_are_not_followed(base: Path, tmp_path: Path, linked: str) -> None:
    folder = copy_of(base, tmp_path / "model")
    (tmp_path / "outside").mkdir()
    shutil.move(folder / linked, tmp_path / "outside" / linked)
    (folder / linked).symlink_to(tmp_path / "outside" / linked)
    with pytest.raises(UnsafeModelError, match="is a link to .*, outside the model folder"):
        load_runner(str(folder), TASK)


def test_links_that_stay_inside_are_followed(base: Path, tmp_path: Path) -> None:
    """A link within the folder, and a Hub cache snapshot (whose files link to ../../blobs), load,
    with the content hash of the plain folder."""
    expected = load_runner(str(base), TASK).info.content_sha256
    folder = copy_of(base, tmp_path / "model")
    (folder / "weights").mkdir()
    shutil.move(folder / "model.safetensors", folder / "weights" / "real.safetensors")
    (folder / "model.safetensors").symlink_to(Path("weights") / "real.safetensors")
    assert load_runner(str(folder), TASK).info.content_sha256 == expected

    repo = tmp_path / "hub" / "models--alice--tiny"
    snapshot = repo / "snapshots" / ("a" * 40)
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for i, path in enumerate(sorted(p for p in base.iterdir() if p.is_file())):
        shutil.copy(path, repo / "blobs" / f"blob{i}")
        (snapshot / path.name).symlink_to(Path("../..") / "blobs" / f"blob{i}")
    assert load_runner(str(snapshot), TASK).info.content_sha256 == expected


def test_sentence_transformers_modules_stay_in_the_folder(tmp_path: Path) -> None:
    """modules.json naming a pooling folder outside, or a pooling folder that is a link out."""
    folder = tm.build_tiny_model("sentence-similarity", tmp_path / "st", pooling="mean")
    (tmp_path / "pool").mkdir()
    (tmp_path / "pool" / "config.json").write_text(json.dumps({"pooling_mode": "cls"}))
    modules = json.loads((folder / "modules.json").read_text())
    modules[1]["path"] = "../pool"
    (folder / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(UnsafeModelError, match="modules.json names a module folder outside the model folder"):
        load_runner(str(folder), "sentence-similarity")
    modules[1]["path"] = "1_Pooling"
    (folder / "modules.json").write_text(json.dumps(modules))
    shutil.rmtree(folder / "1_Pooling")
    (folder / "1_Pooling").symlink_to(tmp_path / "pool", target_is_directory=True)
    with pytest.raises(UnsafeModelError, match="is a link to .*, outside the model folder"):
        load_runner(str(folder), "sentence-similarity")


@pytest.mark.parametrize(
    ("modules", "pooling"),
    [([1, "x"], {"pooling_mode": "mean"}), (None, {"pooling_mode": 5}), (None, [])],
)
def test_malformed_sentence_transformers_files_are_one_line_errors(
    tmp_path: Path, modules: Any, pooling: Any
) -> None:
    """Hostile modules.json entries and pooling configs: InvalidFileError, not a traceback."""
    folder = tm.build_tiny_model("sentence-similarity", tmp_path / "st")
    if modules is not None:
        (folder / "modules.json").write_text(json.dumps(modules))
        (folder / "1_Pooling" / "config.json").unlink()
        assert load_runner(str(folder), "sentence-similarity").info.parameters > 0  # no module: defaults
        return
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    with pytest.raises(InvalidFileError):
        load_runner(str(folder), "sentence-similarity")


def test_a_fifo_in_the_folder_is_refused_not_waited_on(base: Path, tmp_path: Path) -> None:
    """A FIFO named tokenizer.json: reading it would wait forever for a writer."""
    folder = copy_of(base, tmp_path / "model")
    (folder / "tokenizer.json").unlink()
    os.mkfifo(folder / "tokenizer.json")
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_runner(str(folder), TASK)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():  # release the reader so the thread ends, then fail
        os.close(os.open(folder / "tokenizer.json", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("loading waited on a FIFO")
    assert isinstance(outcome[0], InvalidFileError) and "not a regular file" in str(outcome[0])


def test_repository_code_named_in_auto_map_does_not_run(base: Path, tmp_path: Path) -> None:
    """A config transformers implements, with auto_map entries (model and tokenizer) pointing at
    code in the folder: loading without --trust-remote-code never imports it."""
    marker = tmp_path / "imported"
    folder = copy_of(base, tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    auto_map = {"AutoConfig": "evil.C", "AutoModelForSequenceClassification": "evil.M"}
    (folder / "config.json").write_text(json.dumps(config | {"auto_map": auto_map}))
    tokenizer = json.loads((folder / "tokenizer_config.json").read_text())
    tokenizer["auto_map"] = {"AutoTokenizer": ["evil.T", None]}
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer))
    (folder / "evil.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "from transformers import BertConfig as C, BertForSequenceClassification as M, BertTokenizer as T\n"
    )
    assert load_runner(str(folder), TASK).info.trust_remote_code is False
    assert not marker.exists()


# ------------------------------------------------------------------------------------------------
# From a (loopback) Hub


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        yield server


def test_hub_index_leading_to_pickle_in_a_shared_cache(hub: HubServer, base: Path, tmp_path: Path) -> None:
    """Another tool sharing the Hugging Face cache already downloaded the whole repository (with the
    real huggingface_hub client): its pytorch_model.bin is there, named by the safetensors index."""
    import torch
    from huggingface_hub import snapshot_download

    folder = copy_of(base, tmp_path / "model")
    weights = tensors(folder)
    torch.save(weights, folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    write_index(folder, dict.fromkeys(weights, "pytorch_model.bin"))
    hub.create_repo("alice/indexed", folder_files(folder))
    with pytest.raises(UnsafeModelError, match="--allow-pickle"):  # refused before downloading it
        load_runner("alice/indexed", TASK, endpoint=hub.url, cache_dir=tmp_path / "own")
    assert hub.count("GET", r"/resolve/.*pytorch_model\.bin$") == 0
    cache = tmp_path / "cache"
    snapshot_download("alice/indexed", cache_dir=cache, endpoint=hub.url)
    with pytest.raises(UnsafeModelError, match="--allow-pickle"):
        load_runner("alice/indexed", TASK, endpoint=hub.url, cache_dir=cache)
    assert load_runner(
        "alice/indexed", TASK, endpoint=hub.url, cache_dir=cache, allow_pickle=True
    ).info.allow_pickle


def test_hub_downloads_exactly_the_shards_the_index_names(hub: HubServer, base: Path, tmp_path: Path) -> None:
    """No stray shard-like file is downloaded; an index leading out of the repository downloads
    nothing but itself; a malicious pickle with --allow-pickle is refused without running."""
    import torch
    from safetensors.torch import save

    files = folder_files(base)
    weights = tensors(base)
    files["model-00001-of-00001.safetensors"] = files.pop("model.safetensors")
    files["model-00009-of-00009.safetensors"] = save({"stray": weights["classifier.bias"]})
    files[INDEX] = json.dumps(
        {"metadata": {}, "weight_map": dict.fromkeys(weights, "model-00001-of-00001.safetensors")}
    ).encode()
    hub.create_repo("alice/sharded", files)
    assert load_runner("alice/sharded", TASK, endpoint=hub.url, cache_dir=tmp_path / "c1").info.parameters > 0
    assert hub.count("GET", r"/resolve/.*model-00001-of-00001\.safetensors$") == 1
    assert hub.count("GET", r"/resolve/.*model-00009-of-00009\.safetensors$") == 0

    files[INDEX] = json.dumps(
        {"metadata": {}, "weight_map": dict.fromkeys(weights, "../../blobs/x")}
    ).encode()
    hub.create_repo("alice/escaping", files)
    with pytest.raises(UnsafeModelError, match="outside the model folder"):
        load_runner("alice/escaping", TASK, endpoint=hub.url, cache_dir=tmp_path / "c2")
    assert hub.count("GET", r"/resolve/.*escaping.*safetensors$") == 0

    marker = tmp_path / "unpickled"
    evil = folder_files(base)
    del evil["model.safetensors"]
    buffer = tmp_path / "evil.bin"
    torch.save({"w": CreatesFile(marker)}, buffer)
    evil["pytorch_model.bin"] = buffer.read_bytes()
    hub.create_repo("alice/evil", evil)
    with pytest.raises(UnsafeModelError, match="more than tensors"):
        load_runner("alice/evil", TASK, endpoint=hub.url, cache_dir=tmp_path / "c3", allow_pickle=True)
    assert not marker.exists()
