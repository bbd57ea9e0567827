"""What a bulk run works on: model ids from a file, or from a Hub query, and a skip list.

A **model file** has one Hub model id per line, optionally pinned to a revision (branch, tag or
commit) with ``@``::

    # text classifiers to label this week
    distilbert/distilbert-base-uncased-finetuned-sst-2-english
    cardiffnlp/twitter-roberta-base-sentiment-latest@main     # a branch
    org/model@0123456789abcdef0123456789abcdef01234567         # a commit

``#`` starts a comment (a whole line, or after a space); blank lines are ignored. A line that is
not ``org/name[@revision]`` is reported (:class:`InputProblem`, with its line number) and skipped,
as is a repeat of an earlier line: a bad line never stops the run. Ids without a namespace
(``gpt2``) are refused: write the ``org/name`` the model's Hub page shows.

A **Hub query** (:func:`query_models`) lists models with ``HfApi.list_models`` (search, author,
pipeline tag, limit) and asks the listing for each model's commit sha and card metadata, so the
planning needs no request per model.

A **skip file** lists model ids (same syntax, no revision) that are never measured nor published.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "InputProblem",
    "ModelRef",
    "parse_model_lines",
    "query_models",
    "read_model_file",
    "read_skip_file",
]

_REVISION = re.compile(r"[A-Za-z0-9_][\w.\-/]*")
_COMMENT = re.compile(r"(^|\s)#.*$")


@dataclass(frozen=True)
class ModelRef:
    """One model to work on.

    Attributes:
        model: the Hub repo id, ``org/name``.
        revision: the revision asked for (branch, tag or sha); None means the main branch.
        source: where it came from, e.g. ``models.txt:12`` or ``hub query``.
        sha: the commit sha when the input already knows it (a Hub listing), else None.
        card_data: the card's front matter when the input already has it (a Hub listing).
        pipeline_tag: the Hub's pipeline tag when the input already knows it (a Hub listing, where
            ``sha`` is set too; None there means the model has none), for ``--task auto``.
    """

    model: str
    revision: str | None = None
    source: str = ""
    sha: str | None = field(default=None, compare=False)
    card_data: Mapping[str, object] | None = field(default=None, compare=False, repr=False)
    pipeline_tag: str | None = field(default=None, compare=False)

    @property
    def ref(self) -> str:
        """The revision asked for, ``main`` when none was."""
        return self.revision or "main"


@dataclass(frozen=True)
class InputProblem:
    """A line of an input file that was skipped.

    Attributes:
        source: the file.
        line: its 1-based line number.
        text: the line as written (without the line break).
        reason: why it was skipped.
    """

    source: str
    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}: {self.text.strip()!r}"


def _repo_id_problem(model: str) -> str | None:
    from energy_badge.hub import is_repo_id

    if "/" not in model:
        return "not a Hub model id: write it as org/name, as the model's Hub page shows it"
    if not is_repo_id(model):
        return "not a Hub model id (expected org/name)"
    return None


def parse_model_lines(
    lines: Iterable[str], source: str, *, allow_revision: bool = True
) -> tuple[list[ModelRef], list[InputProblem]]:
    """Parse the lines of a model file.

    Args:
        lines: the file's lines.
        source: the file's name, for :attr:`ModelRef.source` and the problems.
        allow_revision: accept ``@revision`` (False for a skip file).

    Returns:
        The models in file order (repeats dropped) and one :class:`InputProblem` per skipped line.
    """
    refs: list[ModelRef] = []
    problems: list[InputProblem] = []
    seen: dict[tuple[str, str | None], int] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        line = _COMMENT.sub("", text).strip()
        if not line:
            continue
        if any(c.isspace() for c in line):
            problems.append(InputProblem(source, number, text, "one model id per line (found spaces)"))
            continue
        model, at, revision = line.partition("@")
        if at and not allow_revision:
            problems.append(InputProblem(source, number, text, "a skip list names models, not revisions"))
            continue
        if at and (not revision or not _REVISION.fullmatch(revision) or ".." in revision):
            problems.append(InputProblem(source, number, text, "not a revision after '@'"))
            continue
        problem = _repo_id_problem(model)
        if problem is not None:
            problems.append(InputProblem(source, number, text, problem))
            continue
        key = (model, revision or None)
        if key in seen:
            problems.append(InputProblem(source, number, text, f"a repeat of line {seen[key]}"))
            continue
        seen[key] = number
        refs.append(ModelRef(model, revision or None, f"{source}:{number}"))
    return refs, problems


def _read_lines(path: str | os.PathLike[str]) -> list[str]:
    from energy_badge.files import read_text

    text = read_text(path)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.splitlines()


def read_model_file(path: str | os.PathLike[str]) -> tuple[list[ModelRef], list[InputProblem]]:
    """Read a model file (see the module docstring).

    Raises:
        InvalidFileError: the file cannot be read or is not UTF-8 (bad *lines* are problems, not errors).
    """
    return parse_model_lines(_read_lines(path), os.fspath(path))


def read_skip_file(path: str | os.PathLike[str]) -> tuple[frozenset[str], list[InputProblem]]:
    """Read a skip file: the model ids never to measure nor publish, and its skipped lines.

    Raises:
        InvalidFileError: the file cannot be read or is not UTF-8.
    """
    refs, problems = parse_model_lines(_read_lines(path), os.fspath(path), allow_revision=False)
    return frozenset(ref.model for ref in refs), problems


#: What :func:`query_models` asks the listing for, beyond the id.
LISTING_EXPAND = ["sha", "cardData", "pipeline_tag", "gated", "private"]


def query_models(
    *,
    search: str | None = None,
    author: str | None = None,
    pipeline_tag: str | None = None,
    limit: int | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    sleep: Callable[[float], object] | None = None,
    max_attempts: int = 4,
) -> list[ModelRef]:
    """List Hub models (the Hub gateway's listing) and return them with their sha and card metadata.

    Args:
        search: a substring of the repo id.
        author: the namespace (user or organisation).
        pipeline_tag: the Hub's pipeline tag, e.g. ``text-classification``.
        limit: the most models to return (None: all that match).
        endpoint: the Hub endpoint (default ``HF_ENDPOINT`` / huggingface.co).
        token: a Hub token (default: huggingface_hub's own resolution).
        sleep: how to wait between tries (default :func:`time.sleep`).
        max_attempts: tries of the whole listing on a transient failure (429 waits as the Hub says).

    Returns:
        The models in the order the Hub lists them, each with ``sha``, ``card_data`` and
        ``pipeline_tag`` filled in.

    Raises:
        UsageError: no criterion at all (that would list the whole Hub).
        HubError: the Hub refused the query.
        NetworkError: the Hub kept failing; :class:`~energy_badge.hub.client.HubUnreachableError`
            at once when it refuses the connection.
    """
    from energy_badge.errors import UsageError
    from energy_badge.hub import HubClient, RetryPolicy

    if not (search or author or pipeline_tag):
        raise UsageError(
            "a Hub query needs --search, --author or --pipeline-tag (else it lists the whole Hub)"
        )
    client = HubClient(
        token=token,
        endpoint=endpoint,
        retry=RetryPolicy(max_attempts=max_attempts, sleep=sleep),
        unreachable_is_final=True,  # a refused first request: the Hub is down or mistyped, not busy
    )
    infos = client.list_models(
        search=search, author=author, pipeline_tag=pipeline_tag, limit=limit, expand=LISTING_EXPAND
    )
    return [
        ModelRef(
            info.repo_id,
            None,
            "hub query",
            sha=info.sha,
            card_data=info.card_data,
            pipeline_tag=info.pipeline_tag,
        )
        for info in infos
    ]
