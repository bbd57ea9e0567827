"""The :class:`Workload`: one task's fixed inputs, and how they are decoded and checked.

Re-exported by :mod:`energy_badge.workload` (import from there; the design is in its docstring).
Standard library only: numpy and Pillow are imported by :mod:`energy_badge.media` when a media
input is decoded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from energy_badge.errors import InvalidFileError, UsageError
from energy_badge.workload_hash import inputs_sha256
from energy_badge.workload_settings import (
    AUDIO_SAMPLING_RATE,
    SOURCE,
    TASKS,
    DiffusionSettings,
    GenerationSettings,
    input_kind,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from PIL import Image

    WorkloadInput = str | tuple[str, ...] | Image.Image | NDArray[np.float32]

__all__ = ["Workload", "verify"]


@dataclass(frozen=True)
class Workload:
    """The fixed inputs of one task, as fed to a model.

    Treat ``queries`` (and the dicts in it) as read-only: loaded workloads are cached and shared.

    Attributes:
        task: one of :data:`TASKS`.
        name: the workload's name, e.g. ``"energy-badge/text-classification"``.
        version: its semantic version, e.g. ``"1.0.0"``.
        queries: the query records, in order (``{"id", "text"}`` for text classification,
            ``{"id", "image": {...}, "sha256"}`` for an image task, ...).
        sha256: the hash of exactly these inputs (canonical JSONL for text, :func:`media_sha256_of`
            for images and audio).
        batch_size: queries per forward pass (1 in canonical workloads).
        generation: decoding settings: :class:`GenerationSettings` for token generation,
            :class:`DiffusionSettings` for text-to-image, else None.
        default_dtype: the dtype canonical runs use (``"float32"``, or ``"float16"`` for text
            generation).
        input_fields: the query fields a model reads (``("question", "context")`` for QA,
            ``("image",)``, ``("audio",)``, ``("prompt",)``).
        manifest: this task's entry of the shipped manifest (input statistics, provenance,
            licence, the canonical sha256 and query count); for a workload built with
            :meth:`from_inputs`, what its caller gave.
        source: where the inputs come from: ``"energy-badge"`` for the shipped workloads, else
            what :meth:`from_inputs` was given.
        decoded: the inputs themselves when they were given already decoded
            (:meth:`from_inputs`), else None (they are synthesised from the queries).
    """

    task: str
    name: str
    version: str
    queries: tuple[dict[str, Any], ...] = field(repr=False)
    sha256: str
    batch_size: int
    generation: GenerationSettings | DiffusionSettings | None
    default_dtype: str
    input_fields: tuple[str, ...]
    manifest: dict[str, Any] = field(repr=False, compare=False)
    source: str = SOURCE
    decoded: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.queries)

    @property
    def kind(self) -> str:
        """``"text"``, ``"image"`` or ``"audio"``: what :meth:`input_at` returns (see :func:`input_kind`)."""
        return input_kind(self.task)

    @property
    def sampling_rate(self) -> int | None:
        """:data:`AUDIO_SAMPLING_RATE` for an audio workload, else None."""
        return AUDIO_SAMPLING_RATE if self.kind == "audio" else None

    @property
    def is_canonical(self) -> bool:
        """True when these are exactly the queries the manifest pins (not a subset)."""
        return self.sha256 == self.manifest.get("sha256") and len(self.queries) == self.manifest.get(
            "queries"
        )

    def to_dict(self) -> dict[str, object]:
        """The JSON summary `energy-badge tasks --json` prints (no queries).

        Returns:
            ``{"name", "version", "task", "sha256", "queries", "batch_size", "generation",
            "default_dtype", "source"}``; ``queries`` is the number of queries.
        """
        return {
            "name": self.name,
            "version": self.version,
            "task": self.task,
            "sha256": self.sha256,
            "queries": len(self.queries),
            "batch_size": self.batch_size,
            "generation": self.generation.to_dict() if self.generation is not None else None,
            "default_dtype": self.default_dtype,
            "source": self.source,
        }

    def input_at(self, index: int) -> WorkloadInput:
        """The decoded input of query ``index``, checked against its sha256.

        Args:
            index: the query's position, 0 to ``len(self) - 1``.

        Returns:
            An RGB ``PIL.Image.Image`` (image tasks); a 1-D ``float32`` numpy array of 16 kHz mono
            samples in [-1, 1] (speech recognition); the prompt ``str`` (text-to-image); the text
            ``str`` of a one-field text task, or a tuple of its fields' texts in
            ``input_fields`` order (question answering: ``(question, context)``; sentence
            similarity: ``(sentence1, sentence2)``).

        Raises:
            IndexError: ``index`` is out of range.
            InvalidFileError: the decoded input differs from the one its record pins (another
                numpy or Pillow drew it differently), or its spec is malformed.
        """
        query = self.queries[index]
        if self.decoded is not None:
            return self.decoded[index]
        kind = self.kind
        if kind == "text":
            texts = tuple(str(query[f]) for f in self.input_fields)
            return texts[0] if len(texts) == 1 else texts
        from energy_badge import media

        value = media.decode(kind, query[kind])
        found = media.describe(kind, value)
        if found.sha256 != query.get("sha256"):
            raise InvalidFileError(
                f"{self.name}@{self.version}: query {query.get('id')} decoded to different {kind} data "
                f"(sha256 {found.sha256[:12]}…, pinned {str(query.get('sha256'))[:12]}…): this platform's "
                "numpy or Pillow does not reproduce the canonical inputs"
            )
        return value

    def inputs(self) -> Iterator[WorkloadInput]:
        """Every decoded input, in order (each checked as :meth:`input_at` checks it).

        Yields:
            What :meth:`input_at` returns, for index 0, 1, ...
        """
        for index in range(len(self.queries)):
            yield self.input_at(index)

    def subset(self, n: int) -> Workload:
        """The first ``n`` queries as a workload of their own (for ``--queries N`` smoke runs).

        The sha256 is recomputed over exactly those queries (by the same definition as the
        whole workload's), so a subset is never mistaken for the canonical workload.

        Args:
            n: how many leading queries to keep, between 1 and ``len(self.queries)``.

        Returns:
            A new workload; ``self`` when ``n`` equals the number of queries.

        Raises:
            UsageError: ``n`` is not an integer in that range.
        """
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(self.queries):
            raise UsageError(
                f"--queries must be between 1 and {len(self.queries)} for {self.task}, got {n!r}"
            )
        if n == len(self.queries):
            return self
        queries = self.queries[:n]
        return replace(
            self,
            queries=queries,
            sha256=inputs_sha256(self.task, queries),
            decoded=self.decoded[:n] if self.decoded is not None else None,
        )

    @classmethod
    def from_inputs(
        cls,
        *,
        task: str,
        name: str,
        version: str,
        inputs: Sequence[object],
        ids: Sequence[str] | None = None,
        sha256: str | None = None,
        source: str,
        batch_size: int = 1,
        generation: GenerationSettings | DiffusionSettings | None | str = "canonical",
        default_dtype: str | None = None,
        manifest: Mapping[str, Any] | None = None,
    ) -> Workload:
        """Build a workload whose inputs come from elsewhere, already decoded (e.g. a Hub dataset).

        The inputs are normalised (images to RGB ``PIL.Image.Image``, clips to contiguous
        ``float32`` arrays) and kept in :attr:`decoded`; :meth:`input_at` returns them as they are.
        The queries are ``{"id", "image": {"width", "height"}, "sha256"}`` (images),
        ``{"id", "audio": {"samples"}, "sha256"}`` (clips, which must already be 16 kHz mono), or
        ``{"id", <field>: text}`` (text tasks; several fields take a tuple per input, in the task's
        canonical ``input_fields`` order). The workload's sha256 follows the same definitions as
        the shipped workloads', so it pins exactly these decoded inputs (it never equals a
        canonical sha256 unless the inputs are the canonical ones).

        Args:
            task: one of :data:`TASKS`.
            name: the workload's name, e.g. ``"AIEnergyScore/image_captioning"``.
            version: its version as ``MAJOR.MINOR.PATCH`` (e.g. derived from a dataset revision).
            inputs: one input per query (PIL images or ``(H, W, 3)`` uint8 arrays; 1-D float sample
                arrays at :data:`AUDIO_SAMPLING_RATE`; strings or tuples of strings).
            ids: one id per query; ``"q-0001"``, ... when None.
            sha256: the expected sha256 of the inputs; when given, a different one is an error.
            source: where the inputs come from, recorded in :meth:`to_dict` (e.g.
                ``"AIEnergyScore/image_captioning@<revision>"``).
            batch_size: queries per forward pass.
            generation: the decoding settings; ``"canonical"`` (the default) takes those of the
                task's newest canonical workload.
            default_dtype: the dtype; None takes the canonical workload's.
            manifest: a description kept as :attr:`manifest` (provenance, licence, what was read).

        Returns:
            The workload.

        Raises:
            UsageError: the task is unknown, there are no inputs, ids do not match them, or an input
                is not of the task's kind.
            InvalidFileError: ``sha256`` is given and differs from the inputs' hash.
        """
        if task not in TASKS:
            raise UsageError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
        if not inputs:
            raise UsageError(f"a {task} workload needs at least one input")
        ids = list(ids) if ids is not None else [f"q-{i + 1:04d}" for i in range(len(inputs))]
        if len(ids) != len(inputs) or len(set(ids)) != len(ids):
            raise UsageError(f"{len(ids)} ids (distinct: {len(set(ids))}) for {len(inputs)} inputs")
        from energy_badge.workload import canonical_spec

        spec = canonical_spec(task)
        kind = input_kind(task)
        fields = _input_fields(task)
        decoded: list[object] = []
        queries: list[dict[str, Any]] = []
        if kind == "text":
            for query_id, value in zip(ids, inputs, strict=True):
                texts = (value,) if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]
                if len(texts) != len(fields) or not all(isinstance(t, str) for t in texts):
                    raise UsageError(f"a {task} input is {len(fields)} string(s) ({', '.join(fields)})")
                decoded.append(texts[0] if len(texts) == 1 else texts)
                queries.append({"id": query_id, **dict(zip(fields, texts, strict=True))})
        else:
            from energy_badge import media

            for query_id, value in zip(ids, inputs, strict=True):
                item = media.normalise(kind, value)
                described = media.describe(kind, item)
                decoded.append(item)
                queries.append({"id": query_id, kind: described.spec, "sha256": described.sha256})
        digest = inputs_sha256(task, queries)
        if sha256 is not None and sha256 != digest:
            raise InvalidFileError(f"the {name} inputs hash to {digest}, expected {sha256}")
        return cls(
            task=task,
            name=name,
            version=version,
            queries=tuple(queries),
            sha256=digest,
            batch_size=batch_size,
            generation=spec.generation if generation == "canonical" else generation,  # type: ignore[arg-type]
            default_dtype=default_dtype or spec.default_dtype,
            input_fields=fields,
            manifest=dict(manifest or {}),
            source=source,
            decoded=tuple(decoded),
        )


def _input_fields(task: str) -> tuple[str, ...]:
    kind = input_kind(task)
    if kind != "text":
        return (kind,)
    return {
        "sentence-similarity": ("sentence1", "sentence2"),
        "question-answering": ("question", "context"),
        "summarization": ("document",),
        "text-generation": ("prompt",),
        "text-to-image": ("prompt",),
    }.get(task, ("text",))


def verify(workload: Workload) -> None:
    """Decode every input of a workload and check it against the sha256 its record pins.

    Together with the manifest check at load time (the specs' file hash and the workload hash
    recomputed from the records), this proves that this platform reproduces the exact canonical
    inputs. About 10-30 s of CPU per media workload (``benchmarks/workload_decode.py``).

    Args:
        workload: the workload (a text workload is already fully checked by loading).

    Raises:
        InvalidFileError: an input decodes to other bytes than pinned, or the records do not
            hash to the workload's sha256.
    """
    if inputs_sha256(workload.task, workload.queries) != workload.sha256:
        raise InvalidFileError(f"{workload.name}: the query records do not hash to {workload.sha256}")
    for _ in workload.inputs():
        pass
