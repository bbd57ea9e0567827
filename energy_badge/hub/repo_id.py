"""The one repo-id validator: what a Hub model id looks like, decided once for every command.

The syntax is the Hub's, as huggingface_hub's ``validate_repo_id`` checks it, with the namespace
required: ``namespace/name``, each part 1 to 96 of ``A-Z a-z 0-9 . _ -``, neither starting nor
ending with ``-`` or ``.``, no ``--`` or ``..``, and not ending in ``.git``. ``gpt2`` (no namespace)
is refused: the model's Hub page shows the ``org/name`` to write. The publish command, the GitHub
Action, ``measure``'s local-folder-or-Hub choice, the bulk input files and the service's webhooks
and badge routes all ask :func:`repo_id_problem` (or :func:`is_repo_id`).
"""

from __future__ import annotations

__all__ = ["MAX_PART_LENGTH", "is_repo_id", "repo_id_problem"]

#: The Hub's limit on each part of a repo id (huggingface_hub's ``validate_repo_id``).
MAX_PART_LENGTH = 96
_SHOWN = 200  # the most characters of a bad id quoted back in a message


def repo_id_problem(repo_id: object) -> str | None:
    """Why ``repo_id`` is not a Hub model id ``namespace/name``, or None when it is one.

    Args:
        repo_id: anything (a webhook's JSON value, a line of an input file, an option).

    Returns:
        None for a valid id; otherwise one line saying what is wrong, quoting at most the first
        200 characters of the value.
    """
    if not isinstance(repo_id, str):
        return "the repo id must be a string"
    shown = repr(repo_id if len(repo_id) <= _SHOWN else repo_id[:_SHOWN] + "...")
    if repo_id.count("/") != 1:
        return f"{shown} is not of the form namespace/name"
    namespace, name = repo_id.split("/")
    if not namespace or not name:
        return f"{shown} is not of the form namespace/name"
    if len(namespace) > MAX_PART_LENGTH or len(name) > MAX_PART_LENGTH:
        return f"{shown}: each part must be 1 to {MAX_PART_LENGTH} characters"
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        if "--" in repo_id or ".." in repo_id:
            return f"{shown}: '--' and '..' are not allowed"
        if repo_id.endswith(".git"):
            return f"{shown}: a name cannot end in .git"
        return (
            f"{shown}: only letters, digits, '.', '_' and '-' are allowed, "
            "and a part cannot start or end with '.' or '-'"
        )
    return None


def is_repo_id(repo_id: object) -> bool:
    """Whether ``repo_id`` is a valid Hub model id (see :func:`repo_id_problem`)."""
    return repo_id_problem(repo_id) is None
