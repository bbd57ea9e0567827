"""Hostile inputs on disk and in model cards (issue 13, items 1 and 2): what an attacker who controls
a file, or a model card, can make energy-badge do.

Nothing is simulated: the files are real (symbolic links, a FIFO, ``/dev/zero``, ``/proc`` files,
oversized files), the CLI runs in-process through click's CliRunner, and as a real subprocess where
its own environment or its memory is what is at stake. The publish test uses the loopback Hub
(tests/hub_server.py) with the real huggingface_hub client. Result files are SYNTHETIC
(tests/results_factory.py). No test waits on a clock: a refusal must come at once, and the few
checks that used to hang carry a pytest timeout so that they fail rather than hang on broken code
(speed itself is measured by benchmarks/card_edit.py, not asserted here).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from card_samples import METADATA
from cli_support import cli, one_error_line
from hub_server import running_hub
from results_factory import write_result_file

from energy_badge import files as files_module
from energy_badge import hub as hub_module
from energy_badge.card import (
    MAX_CARD_BYTES,
    MAX_FRONT_MATTER_BYTES,
    CardLimitError,
    apply_to_card,
    apply_to_card_bytes,
    read_front_matter,
    read_metadata,
)
from energy_badge.card import frontmatter as frontmatter_module
from energy_badge.errors import EXIT_INPUT, InvalidFileError
from energy_badge.files import MAX_JSON_BYTES, read_bytes, read_text, write_atomic
from energy_badge.rating import load_table
from energy_badge.result import load_result

ROOT = Path(__file__).resolve().parents[1]
REPO = "alice/tiny-classifier"
ALICE = "hf_aliceWriteToken0123456789abcdef"
SECRET = "hf_SECRETsecretSECRETsecret0123456789"
CARD = b"---\nlicense: mit\n---\n# Tiny classifier\n\nA small model.\n"
BADGE = "[![AI energy](energy/badge.svg)](energy/result.json)"


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    return write_result_file(tmp_path / "r.json", model_id=REPO, samples=(0.79, 0.8, 0.81, 0.8, 0.8))


def subprocess_cli(args: list[str], cwd: Path, env_extra: dict[str, str], memory_bytes: int | None = None):
    """``python -m energy_badge ARGS`` as a user's shell runs it (its own environment), with an
    address-space limit when ``memory_bytes`` is given (so a runaway read fails fast, not the box)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(env_extra)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)

    def limit() -> None:
        if memory_bytes is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run(
        [sys.executable, "-m", "energy_badge", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
    )


# ------------------------------------------------------------------------------------------------
# Item 1: a README that is not a regular file


def test_readme_linked_to_the_process_environment_is_refused_and_never_printed(tmp_path, result_file):
    """The issue's attack, for real: README.md -> /proc/self/environ, HF_TOKEN in the environment."""
    (tmp_path / "README.md").symlink_to("/proc/self/environ")
    for extra in ([], ["--write"]):
        proc = subprocess_cli(
            ["card", str(result_file), "--readme", "README.md", *extra], tmp_path, {"HF_TOKEN": SECRET}
        )
        assert proc.returncode == EXIT_INPUT, proc.stdout + proc.stderr
        assert SECRET not in proc.stdout + proc.stderr
        assert proc.stdout == ""
        line = one_error_line(proc.stderr)
        assert "README.md" in line and "symbolic link" in line
    assert (tmp_path / "README.md").is_symlink()


def test_readme_linked_outside_the_folder_is_neither_shown_nor_overwritten(tmp_path, result_file):
    outside = tmp_path / "etc"
    outside.mkdir()
    passwd = outside / "passwd"
    passwd.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    folder = tmp_path / "model"
    folder.mkdir()
    readme = folder / "README.md"
    readme.symlink_to(passwd)
    for extra in ([], ["--write"]):
        code, out, err = cli("card", result_file, "--readme", readme, *extra)
        assert code == EXIT_INPUT, out + err
        assert "root:x" not in out + err and out == ""
        assert "symbolic link" in one_error_line(err)
    assert passwd.read_bytes() == b"root:x:0:0:root:/root:/bin/bash\n"
    assert readme.is_symlink() and sorted(p.name for p in folder.iterdir()) == ["README.md"]


@pytest.mark.timeout(30)
def test_readme_that_is_a_fifo_is_refused_without_blocking(tmp_path, result_file):
    """Opening a FIFO with no writer blocks forever; it must be refused at once instead."""
    fifo = tmp_path / "README.md"
    os.mkfifo(fifo)
    code, out, err = cli("card", result_file, "--readme", fifo, "--write")
    assert code == EXIT_INPUT and out == ""
    line = one_error_line(err)
    assert "FIFO" in line and "not a regular file" in line
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_readme_that_is_dev_zero_is_refused_without_reading(tmp_path, result_file):
    """`--readme /dev/zero` used to read until memory ran out: here under a 2 GiB address-space cap."""
    proc = subprocess_cli(
        ["card", str(result_file), "--readme", "/dev/zero"], tmp_path, {}, memory_bytes=2 * 1024**3
    )
    assert proc.returncode == EXIT_INPUT, proc.stderr[-2000:]
    line = one_error_line(proc.stderr)
    assert "/dev/zero" in line and "character device" in line


def test_readme_larger_than_the_cap_is_refused_with_the_cap_in_the_message(tmp_path, result_file):
    readme = tmp_path / "README.md"
    readme.write_bytes(CARD + b"x" * MAX_CARD_BYTES)
    code, _, err = cli("card", result_file, "--readme", readme, "--write")
    assert code == EXIT_INPUT
    line = one_error_line(err)
    assert "too large" in line and "4 MiB" in line
    assert readme.stat().st_size == len(CARD) + MAX_CARD_BYTES  # untouched


def test_a_regular_readme_is_still_written_in_place(tmp_path, result_file):
    readme = tmp_path / "README.md"
    readme.write_bytes(CARD)
    code, out, err = cli("card", result_file, "--readme", readme, "--write")
    assert code == 0, err
    assert f"wrote {readme}" in out and readme.is_file() and not readme.is_symlink()
    assert b"energy_score:" in readme.read_bytes()


def test_an_edit_never_writes_a_card_over_the_cap():
    """A card just under 4 MiB that our key and block would take over it is refused, not written."""
    card = "---\nlicense: mit\n---\n# T\n\n" + "x" * (MAX_CARD_BYTES - 100) + "\n"
    with pytest.raises(CardLimitError, match="cannot add the badge: .* more than the 4 MiB"):
        apply_to_card(card, METADATA, BADGE)
    with pytest.raises(CardLimitError):
        apply_to_card_bytes(card.encode(), METADATA, BADGE)


def test_card_bytes_and_text_over_the_cap_are_refused():
    """The cap holds for README.md bytes from the Hub (publish, bulk) too, not only files."""
    data = CARD + b"x" * MAX_CARD_BYTES
    with pytest.raises(InvalidFileError, match="more than the 4 MiB"):
        apply_to_card_bytes(data, METADATA, BADGE)
    with pytest.raises(InvalidFileError, match="more than the 4 MiB"):
        read_front_matter(data.decode())
    with pytest.raises(InvalidFileError, match="more than the 4 MiB"):
        apply_to_card(data.decode(), METADATA, BADGE)


# --- the reader itself ----------------------------------------------------------------------------


def test_read_bytes_refuses_links_only_when_asked(tmp_path):
    target = tmp_path / "target.md"
    target.write_bytes(b"hello")
    link = tmp_path / "link.md"
    link.symlink_to(target)
    assert read_bytes(link, max_bytes=100) == b"hello"  # results and tables: a link is followed
    with pytest.raises(InvalidFileError, match="symbolic link"):
        read_bytes(link, max_bytes=100, follow_symlinks=False)
    with pytest.raises(InvalidFileError, match="a directory"):
        read_bytes(tmp_path, max_bytes=100)
    with pytest.raises(InvalidFileError, match="cannot read"):
        read_bytes(tmp_path / "missing", max_bytes=100)


def swap_after_stat(monkeypatch: pytest.MonkeyPatch, path: Path, swap) -> None:
    """Play the race a check-then-open reader loses: right after the reader's ``stat`` of ``path``
    (real, on the real file), ``swap(path)`` replaces the file, before the reader opens it."""
    real_stat = os.stat

    def stat_then_swap(target, *args, **kwargs):
        info = real_stat(target, *args, **kwargs)
        if os.fspath(target) == os.fspath(path):
            swap(path)
        return info

    monkeypatch.setattr(files_module.os, "stat", stat_then_swap)


def test_a_link_swapped_in_after_the_check_is_not_followed(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET.encode())
    card = tmp_path / "README.md"
    card.write_bytes(CARD)

    def to_link(path: Path) -> None:
        path.unlink()
        path.symlink_to(secret)

    swap_after_stat(monkeypatch, card, to_link)
    with pytest.raises(InvalidFileError, match="symbolic link"):  # O_NOFOLLOW on the open itself
        read_bytes(card, max_bytes=1 << 20, follow_symlinks=False)


@pytest.mark.timeout(30)
def test_a_fifo_swapped_in_after_the_check_is_refused_on_the_open_descriptor(tmp_path, monkeypatch):
    card = tmp_path / "README.md"
    card.write_bytes(CARD)

    def to_fifo(path: Path) -> None:
        path.unlink()
        os.mkfifo(path)

    swap_after_stat(monkeypatch, card, to_fifo)
    with pytest.raises(InvalidFileError, match="FIFO"):  # fstat of what was opened, without blocking
        read_bytes(card, max_bytes=1 << 20, follow_symlinks=False)


def test_read_bytes_reads_a_proc_file_only_up_to_the_cap():
    """/proc files say they are 0 bytes long: the cap is enforced on what is read, not on st_size."""
    assert os.stat("/proc/self/status").st_size == 0
    assert b"Name:" in read_bytes("/proc/self/status", max_bytes=1 << 20)
    with pytest.raises(InvalidFileError, match="too large"):
        read_bytes("/proc/self/status", max_bytes=16)


def test_write_atomic_replaces_a_card_but_never_writes_through_a_link(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep")
    link = tmp_path / "README.md"
    link.symlink_to(target)
    with pytest.raises(InvalidFileError, match="symbolic link"):
        write_atomic(link, b"new", follow_symlinks=False)
    assert target.read_bytes() == b"keep" and link.is_symlink()
    assert write_atomic(link, b"new") == target  # results, badges: the link is followed, as before
    assert target.read_bytes() == b"new"
    plain = tmp_path / "plain.md"
    plain.write_bytes(b"old")
    os.chmod(plain, 0o640)
    write_atomic(plain, b"new", follow_symlinks=False)
    assert plain.read_bytes() == b"new" and stat.S_IMODE(plain.stat().st_mode) == 0o640


@pytest.mark.timeout(30)
def test_result_and_table_files_that_are_fifos_devices_or_huge_are_refused(tmp_path):
    fifo = tmp_path / "result.json"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:
        handle.truncate(2 * MAX_JSON_BYTES)  # sparse: no disk used
    for load in (load_result, load_table):
        with pytest.raises(InvalidFileError, match="FIFO") as info:
            load(fifo)
        assert info.value.exit_code == EXIT_INPUT
        with pytest.raises(InvalidFileError, match="character device"):
            load("/dev/zero")
        with pytest.raises(InvalidFileError, match="too large \\(32 MiB, more than the 16 MiB"):
            load(huge)  # refused from its size, before reading it
    code, _, err = cli("rate", "/dev/zero")
    assert code == EXIT_INPUT and "not a regular file" in one_error_line(err)
    code, out, err = cli("validate", fifo)
    assert code != 0 and "FIFO" in out + err


def test_read_text_keeps_its_exact_bytes(tmp_path):
    path = tmp_path / "crlf.md"
    path.write_bytes(b"\xef\xbb\xbfa\r\nb")
    assert read_text(path) == "\ufeffa\r\nb"


# ------------------------------------------------------------------------------------------------
# Item 2: YAML that takes the reader's time or memory


def alias_bomb(levels: int, width: int = 10) -> str:
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "---\nlicense: mit\n" + "\n".join(lines) + "\n---\n# Bomb\n"


def test_alias_bomb_is_refused_by_every_reader():
    """Five levels of ten aliases (10⁶ scalars once expanded) in 300 bytes: the issue's nine levels
    took every card reader past 90 s. Refused before anything walks the data."""
    bomb = alias_bomb(5)
    assert len(bomb) < 400
    for read in (
        lambda: apply_to_card(bomb, METADATA, BADGE),
        lambda: apply_to_card_bytes(bomb.encode(), METADATA, BADGE),
        lambda: read_front_matter(bomb),
        lambda: read_metadata(bomb),
    ):
        with pytest.raises(
            InvalidFileError, match=r"aliases \(\*name\) expand it by 1,234,550 nodes, more than the 25,000"
        ):
            read()


def test_the_issues_nine_level_bomb_is_answered_through_the_cli(tmp_path, result_file):
    readme = tmp_path / "README.md"
    readme.write_text(alias_bomb(9), encoding="utf-8")
    code, _, err = cli("card", result_file, "--readme", readme, "--write")
    assert code == EXIT_INPUT and "alias bomb" in one_error_line(err)


def test_anchors_reused_a_few_times_still_read():
    card = "---\nlicense: mit\nshared: &s {lr: 0.001, epochs: 3}\nrun_a: *s\nrun_b: *s\n---\n# Ok\n"
    assert read_front_matter(card)["run_b"] == {"lr": 0.001, "epochs": 3}
    after = apply_to_card(card, METADATA, BADGE).updated
    assert read_metadata(after) == METADATA


@pytest.mark.parametrize("text", ["a: &a [*a]", "a: &a {b: *a}", "a: &a\n  b: [1, *a]"])
def test_recursive_alias_is_a_clear_error_not_a_recursion_error(text):
    card = f"---\n{text}\n---\n"
    for read in (lambda: read_front_matter(card), lambda: apply_to_card(card, METADATA, BADGE)):
        with pytest.raises(InvalidFileError, match="recursive YAML alias .* line 2"):
            read()


def test_flow_nesting_is_capped():
    """ruamel.yaml's scanner is quadratic in flow nesting (5000 levels in 10 kB took 22 s)."""
    assert read_front_matter("---\nx: " + "[" * 10 + "]" * 10 + "\n---\n") == {"x": [[[[[[[[[[]]]]]]]]]]}
    for depth in (11, 5000):
        with pytest.raises(InvalidFileError, match="more than 10 deep"):
            read_front_matter("---\nx: " + "[" * depth + "]" * depth + "\n---\n")


def test_block_nesting_is_capped():
    deep = "---\n" + "".join(" " * i + f"k{i}:\n" for i in range(101)) + " " * 101 + "v\n---\n"
    with pytest.raises(InvalidFileError, match="more than 100 deep"):
        read_front_matter(deep)


def test_node_count_is_capped_while_parsing(monkeypatch):
    """The count stops ruamel as it composes (the real cap, 25 000 nodes, is about 250 kB of a real
    model-index and takes about a second to reach; the mechanism is shown on a small cap)."""
    monkeypatch.setattr(frontmatter_module, "MAX_YAML_NODES", 50)
    assert read_front_matter("---\nx: [" + "0, " * 40 + "0]\n---\n")["x"] == [0] * 41
    with pytest.raises(InvalidFileError, match="more than 50 YAML nodes"):
        read_front_matter("---\nx: [" + "0, " * 60 + "0]\n---\n")
    # a card under the cap that our key would take over it is left alone: energy-badge must be able
    # to read again every card it writes
    near = "---\nx: [" + "0, " * 40 + "0]\n---\n# Near\n"
    with pytest.raises(CardLimitError, match="cannot write energy_score: .* more than 50 YAML nodes"):
        apply_to_card(near, METADATA, BADGE)
    monkeypatch.setattr(frontmatter_module, "MAX_YAML_NODES", 80)
    assert read_metadata(apply_to_card(near, METADATA, BADGE).updated) == METADATA


def test_front_matter_over_the_size_cap_is_refused_at_once():
    """5 MB of front matter took 50 s to edit; over the 256 KiB cap it is refused before parsing."""
    entry = "- type: accuracy\n  value: 0.91\n"
    card = "---\nmetrics:\n" + entry * (MAX_FRONT_MATTER_BYTES // len(entry) + 1) + "---\n# Big\n"
    for read in (lambda: read_front_matter(card), lambda: apply_to_card(card, METADATA, BADGE)):
        with pytest.raises(InvalidFileError, match=r"front matter is 256(\.\d+)? KiB, more than the 256 KiB"):
            read()


def test_publish_refuses_an_alias_bomb_on_the_hub_and_commits_nothing(monkeypatch, tmp_path, result_file):
    """The edit inside publish reads the Hub's README.md (loopback Hub, real client). Four levels
    (10⁵ scalars): the loopback Hub itself expands the card into its JSON ``cardData``."""
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("alice", ALICE)
        server.create_repo(REPO, {"README.md": alias_bomb(4).encode(), "config.json": b"{}"})
        monkeypatch.setenv("HF_TOKEN", ALICE)
        hub_module.clear_account_cache()
        code, out, err = cli("publish", result_file)
        hub_module.clear_account_cache()
        assert code == EXIT_INPUT, out + err
        (line,) = [x for x in err.splitlines() if x.startswith("error:")]
        assert "alias bomb" in line
        assert server.count("POST", "/commit/") == 0
