"""Model size classes: text generation is rated per size class, as in the AI Energy Score."""

from __future__ import annotations

__all__ = ["SIZE_CLASSES", "SIZE_CLASS_TASKS", "billions", "describe_size_class", "size_class"]

#: The AI Energy Score's text-generation size classes: (class, largest parameter count; None = no limit).
SIZE_CLASSES: tuple[tuple[str, int | None], ...] = (("A", 20_000_000_000), ("B", 66_000_000_000), ("C", None))
#: The tasks rated per size class.
SIZE_CLASS_TASKS = frozenset({"text-generation"})


def size_class(parameters: int | None) -> str | None:
    """The AI Energy Score size class of a text-generation model: ``A`` up to 20B parameters,
    ``B`` up to 66B, ``C`` above; None when the count is unknown (None or not positive)."""
    if parameters is None or parameters <= 0:
        return None
    for name, limit in SIZE_CLASSES:
        if limit is None or parameters <= limit:
            return name
    raise AssertionError("unreachable")  # pragma: no cover


def describe_size_class(name: str) -> str:
    """``A`` -> ``"size class A (up to 20B parameters)"``."""
    bounds = dict(SIZE_CLASSES)
    names = [n for n, _ in SIZE_CLASSES]
    limit = bounds[name]
    if limit is not None:
        return f"size class {name} (up to {limit / 1e9:g}B parameters)"
    previous = bounds[names[names.index(name) - 1]]
    assert previous is not None
    return f"size class {name} (over {previous / 1e9:g}B parameters)"


def billions(parameters: int) -> str:
    """A parameter count in words: ``7.24B``, ``110M``."""
    return f"{parameters / 1e9:.3g}B" if parameters >= 1e8 else f"{parameters / 1e6:.3g}M"
