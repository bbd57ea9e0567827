"""PNG output when its optional parts are missing: the ``png`` extra (cairosvg), or the system cairo library.

Simulated at the import boundary only: ``sys.modules["cairosvg"] = None`` makes ``import cairosvg``
fail as it does where the extra is not installed; a finder placed first on ``sys.meta_path`` makes
``import cairocffi`` (which the real cairosvg imports) raise the ``OSError`` that cairocffi raises
on a machine without libcairo, with cairocffi's own message. The CLI then runs for real, in process,
on a real result file from ``tests/results_factory.py``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
from click.testing import CliRunner
from results_factory import write_result_file

from energy_badge import render
from energy_badge.cli import main
from energy_badge.errors import EXIT_USAGE, UsageError

NO_EXTRA = "error: PNG output needs the png extra: pip install 'energy-badge[png]'"
# what cairocffi 1.x raises from its dlopen() at import when no cairo library is installed
CAIROCFFI_ERROR = (
    'no library called "cairo-2" was found\nno library called "cairo" was found\n'
    'no library called "libcairo-2" was found\n'
    "cannot load library 'libcairo.so.2': libcairo.so.2: cannot open shared object file: No such file "
    "or directory.  Additionally, ctypes.util.find_library() did not manage to locate a library "
    "called 'libcairo.so.2'"
)


class NoCairoLibrary(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``cairocffi`` and fails to execute it as cairocffi does without libcairo."""

    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        return importlib.machinery.ModuleSpec(name, self) if name == "cairocffi" else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        raise OSError(CAIROCFFI_ERROR)


def _cairo_modules() -> dict[str, ModuleType]:
    return {n: m for n, m in sys.modules.items() if n.partition(".")[0] in ("cairosvg", "cairocffi")}


@pytest.fixture
def no_cairo_library(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """cairosvg and cairocffi imported afresh, against a machine without libcairo; restored after."""
    saved = _cairo_modules()
    for name in saved:
        del sys.modules[name]
    monkeypatch.setattr(sys, "meta_path", [NoCairoLibrary(), *sys.meta_path])
    yield
    for name in _cairo_modules():
        del sys.modules[name]
    sys.modules.update(saved)


@pytest.fixture
def no_png_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cairosvg", None)


def badge(*args: object) -> tuple[int, str, str]:
    run = CliRunner().invoke(main, ["badge", *(str(a) for a in args)], catch_exceptions=False)
    return run.exit_code, run.stdout, run.stderr


@pytest.mark.parametrize(
    "png", [("-o", "b.png"), ("-o", "b.out", "--format", "png")], ids=["suffix", "format"]
)
def test_png_without_the_extra_is_one_usage_line(tmp_path, no_png_extra, png):
    result = write_result_file(tmp_path / "r.json")
    assert badge(result, "-o", tmp_path / "b.svg")[0] == 0  # SVG needs nothing optional
    code, out, err = badge(result, png[0], tmp_path / png[1], *png[2:])
    assert code == EXIT_USAGE and out == ""
    assert err.splitlines() == [NO_EXTRA]
    assert not (tmp_path / png[1]).exists()


def test_png_without_the_cairo_library_names_it(tmp_path, no_cairo_library):
    result = write_result_file(tmp_path / "r.json")
    code, out, err = badge(result, "-o", tmp_path / "b.png", "--kind", "label")
    assert code == EXIT_USAGE and out == ""
    (line,) = err.splitlines()
    assert line.startswith("error: PNG output needs the system cairo library")
    assert "apt-get install libcairo2" in line
    assert not (tmp_path / "b.png").exists()


def test_to_png_raises_the_project_error_with_the_cause(no_png_extra):
    with pytest.raises(UsageError, match=r"png extra") as raised:
        render.to_png("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert isinstance(raised.value.__cause__, ImportError)


def test_to_png_keeps_the_oserror_as_its_cause(no_cairo_library):
    with pytest.raises(UsageError, match=r"system cairo library") as raised:
        render.to_png("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert isinstance(raised.value.__cause__, OSError)


def test_png_works_again_after_the_simulations():
    """Runs last in this file: the fixtures put the real cairosvg and cairocffi back."""
    svg = "<svg xmlns='http://www.w3.org/2000/svg' width='4' height='3'/>"
    assert render.to_png(svg).startswith(b"\x89PNG\r\n\x1a\n")
