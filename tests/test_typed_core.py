"""The typed core (issue 11): no ``Any`` at a stage boundary, one Hub client constructor. These
read the package's own code; nothing is simulated."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import energy_badge

PACKAGE = Path(energy_badge.__file__).parent
# The stages of the pipeline and the modules that compose them: their public functions and
# methods take and return typed objects.
STAGES = (
    "workload",
    "aes_workload",
    "tasks",
    "run",
    "meter",
    "result",
    "policy",
    "rating",
    "render",
    "card",
    "publish",
    "hub",
    "measure",
    "compare",
    "summary",
    "text",
)
_ANY = re.compile(r"\bAny\b")


def _api(module: object) -> list[tuple[str, object]]:
    """A stage's declared API: the names in its ``__all__`` (a package's re-exports included; a
    module without one: every name without a ``_`` defined there), and the public methods of the
    classes among them. A package's submodules are its own business, seen only through this API."""
    exported = getattr(module, "__all__", None)
    if exported is None:
        exported = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__  # type: ignore[attr-defined]
        ]
    found = []
    for name in exported:
        value = getattr(module, name)
        if inspect.isfunction(value):
            found.append((name, value))
        elif inspect.isclass(value):
            for attr, member in vars(value).items():
                if inspect.isfunction(member) and not attr.startswith("_"):
                    found.append((f"{name}.{attr}", member))
    return found


def test_no_public_function_of_a_stage_takes_or_returns_any():
    offenders = []
    for stage in STAGES:
        module = importlib.import_module(f"energy_badge.{stage}")
        for name, fn in _api(module):
            for param, annotation in inspect.get_annotations(fn).items():  # type: ignore[arg-type]
                if _ANY.search(str(annotation)):
                    offenders.append(f"{stage}.{name}({param}: {annotation})")
    assert offenders == [], "\n".join(offenders)


def test_the_check_would_see_an_any(tmp_path):
    """The scan above is not vacuous: it reads string annotations (``from __future__``) too."""

    def sample(result: Any) -> None:  # noqa: F821 - the annotation is never evaluated
        """Stand-in."""

    assert _ANY.search(str(inspect.get_annotations(sample)["result"]))


def _calls(path: Path, attribute: str) -> list[int]:
    tree = ast.parse(path.read_text("utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == attribute)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == attribute)
        )
    ]


def test_only_the_hub_gateway_constructs_hfapi():
    places = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in _calls(path, "HfApi")
    ]
    assert places and all(p.startswith("hub") for p in places), places
