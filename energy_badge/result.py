"""The result stage: the schema-valid JSON file every later stage reads.

A result is kept as its JSON form (a dict that matches ``schemas/energy-result.schema.json``)
wrapped in :class:`EnergyResult`, which adds typed accessors for what later stages use. Every
file written is validated first; every file read is validated before use.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from energy_badge.errors import InvalidFileError
from energy_badge.files import read_json, write_atomic
from energy_badge.stats import Stats

SCHEMA_VERSION = "1.0"
RESULT_SCHEMA = "energy-result.schema.json"


@cache
def load_schema(name: str) -> dict:
    """Return a JSON schema shipped in ``energy_badge/schemas`` by file name.

    Args:
        name: file name, e.g. ``"energy-result.schema.json"``.

    Returns:
        The parsed schema.
    """
    return json.loads(resources.files("energy_badge.schemas").joinpath(name).read_text("utf-8"))


def json_path(path: Any) -> str:
    """Format a jsonschema error path (a deque of keys and indices) as ``$.a.b[0]``."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def schema_errors(data: Any, schema_name: str) -> list[str]:
    """Validate ``data`` against a shipped schema.

    Args:
        data: the parsed JSON document.
        schema_name: file name of the schema in ``energy_badge/schemas``.

    Returns:
        One ``"<json path>: <message>"`` string per violation, sorted by path; empty if valid.
    """
    import jsonschema

    validator_cls = jsonschema.validators.validator_for(load_schema(schema_name))
    validator = validator_cls(load_schema(schema_name), format_checker=validator_cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{json_path(e.absolute_path)}: {_short(e)}" for e in errors]


def _short(error: Any) -> str:
    message = error.message
    return message if len(message) <= 200 else message[:197] + "..."


@dataclass(frozen=True)
class EnergyResult:
    """A validated result: its JSON form plus typed accessors.

    Attributes:
        data: the JSON form, valid against ``schemas/energy-result.schema.json``.
    """

    data: dict

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "result") -> EnergyResult:
        """Validate ``data`` and wrap it.

        Args:
            data: a parsed result document.
            source: what to call it in error messages (a file name).

        Raises:
            InvalidFileError: the document does not match the schema; ``errors`` holds each
                violation with its JSON path.
        """
        errors = schema_errors(data, RESULT_SCHEMA)
        if errors:
            raise InvalidFileError(f"{source} is not a valid result: {errors[0]}", errors)
        return cls(data)

    @property
    def task(self) -> str:
        return self.data["task"]

    @property
    def canonical(self) -> bool:
        return self.data["canonical"]

    @property
    def non_canonical_reasons(self) -> list[str]:
        return list(self.data["non_canonical_reasons"])

    @property
    def model_id(self) -> str:
        return self.data["model"]["id"]

    @property
    def model_revision(self) -> str | None:
        return self.data["model"]["revision"]

    @property
    def model_source(self) -> str:
        """``"hub"`` (a Hub repo id) or ``"local"`` (a local folder)."""
        return self.data["model"]["source"]

    @property
    def parameters(self) -> int:
        """The model's parameter count (tied weights counted once)."""
        return self.data["model"]["parameters"]

    @property
    def random_weights(self) -> bool:
        """True when the weights were random (the figure measures the architecture only)."""
        return bool(self.data["model"]["random_weights"])

    @property
    def workload_name(self) -> str:
        return self.data["workload"]["name"]

    @property
    def workload_version(self) -> str:
        return self.data["workload"]["version"]

    @property
    def hardware_class(self) -> str | None:
        return self.data["hardware"]["hardware_class"]

    @property
    def gpu_name(self) -> str | None:
        gpus = self.data["hardware"]["gpus"]
        return gpus[0]["name"] if gpus else None

    @property
    def gpu_energy(self) -> Stats | None:
        """GPU energy in Wh per 1000 queries (the headline), or None when not measured."""
        gpu = self.data["energy"]["gpu"]
        return Stats.from_dict(gpu) if gpu is not None else None

    @property
    def created_at(self) -> str:
        return self.data["created_at"]

    @property
    def tool_version(self) -> str:
        return self.data["tool"]["version"]

    def to_json(self) -> str:
        """Return the file form: indented JSON with a trailing newline."""
        return json.dumps(self.data, indent=2, ensure_ascii=False) + "\n"


def load_result(path: str | os.PathLike[str]) -> EnergyResult:
    """Read and validate a result file.

    Args:
        path: the file.

    Returns:
        The validated result.

    Raises:
        InvalidFileError: the file is missing, is not JSON, or does not match the schema.
    """
    data = read_json(path)
    return EnergyResult.from_dict(data, source=str(path))


def validate_file(path: str | os.PathLike[str]) -> list[str]:
    """Return every problem of a result file (empty when it is valid), each with its JSON path."""
    try:
        load_result(path)
    except InvalidFileError as err:
        return err.errors or [str(err)]
    return []


def write_result(result: EnergyResult | dict, path: str | os.PathLike[str]) -> Path:
    """Validate, then write a result file atomically (a temporary file renamed into place).

    Args:
        result: the result, or its JSON form.
        path: where to write; parent folders are created.

    Returns:
        The path written.

    Raises:
        InvalidFileError: the result does not match the schema; nothing is written.
    """
    if not isinstance(result, EnergyResult):
        result = EnergyResult.from_dict(result)
    else:
        result = EnergyResult.from_dict(result.data)
    write_atomic(path, result.to_json().encode("utf-8"))
    return Path(path)


def default_output_path(model_id: str, task: str, created_at: str, directory: str = "energy-results") -> Path:
    """Return the default result path: ``energy-results/<model>--<task>--<timestamp>.json``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "--", model_id.strip("/")).strip("-.") or "model"
    stamp = re.sub(r"[^0-9TZ]", "", created_at.split(".")[0].replace("+00:00", "Z"))
    return Path(directory) / f"{slug}--{task}--{stamp}.json"
