"""The action's steps (``measure``, ``compare``, ``publish``, ``summary``, ``gate``) and ``main``.

Each step reads its inputs (:mod:`energy_badge.action.inputs`), calls the library, and reports
through the runner (:mod:`energy_badge.action.workflow`). Library errors become an ``::error::``
annotation and the CLI's exit code.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from energy_badge.action.inputs import (
    BASELINE_HUB,
    BASELINE_NONE,
    default_output,
    env,
    extra_args,
    hub_repo,
    max_regression,
    metric,
    publish_mode,
)
from energy_badge.action.workflow import add_summary, annotate, export_env, group, set_output
from energy_badge.errors import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    EnergyBadgeError,
    InputError,
    UsageError,
)
from energy_badge.tasks import energy_unit

__all__ = ["HUB_RESULT_PATH", "RESULT_ENV", "STEPS", "download_hub_baseline", "main", "summary_markdown"]

HUB_RESULT_PATH = "energy/result.json"
RESULT_ENV = "ENERGY_BADGE_RESULT"
EXIT_MEANINGS = {
    1: "a check failed",
    2: "usage error",
    3: "this machine cannot measure",
    4: "model or input problem",
    5: "runtime failure",
}


def _temp_dir() -> Path:
    root = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir())
    path = Path(tempfile.mkdtemp(prefix="energy-badge-", dir=root))
    return path


def step_measure() -> int:
    """Check the inputs, measure (or take ``result``), set the result's outputs."""
    from energy_badge.rating import rate
    from energy_badge.result import load_result

    publish_mode()  # fail fast on bad inputs, before a long measurement
    metric()
    max_regression()
    given = env("EB_RESULT")
    if given:
        path = Path(given)
        print(f"using the result file {path} (input result); nothing is measured")
    else:
        model, task = env("EB_MODEL"), env("EB_TASK")
        if not model or not task:
            raise UsageError("inputs model and task are required (or give a result file as input result)")
        if model.startswith("-") or task.startswith("-"):
            raise UsageError("inputs model and task cannot start with '-' (options go in the args input)")
        path = Path(env("EB_OUTPUT") or default_output(model, task))
        args = [sys.executable, "-m", "energy_badge", "measure", model, "--task", task, "-o", str(path)]
        args += extra_args()
        shown = " ".join(shlex.quote(a) for a in ["energy-badge", *args[3:]])
        with group(f"energy-badge measure {model} ({task})"):
            print(f"$ {shown}", flush=True)
            code = subprocess.run(args, check=False).returncode
        if code != EXIT_OK:
            meaning = EXIT_MEANINGS.get(code, "unexpected failure")
            annotate("error", f"energy-badge measure failed with exit code {code} ({meaning}); see the log")
            return code
    result = load_result(path)
    rating = rate(result)
    energy = result.gpu_energy
    path = path.resolve()
    set_output("result-path", str(path))
    set_output("wh-per-1k", f"{energy.mean:.6g}" if energy is not None else "")
    set_output("stars", str(rating.stars) if rating.stars is not None else "")
    set_output("queries-per-s", f"{result.performance.queries_per_s:.6g}")
    export_env(RESULT_ENV, str(path))
    if energy is not None:
        stars = f"{rating.stars} of 5 stars" if rating.stars else f"unrated ({rating.unrated_reason})"
        unit = energy_unit(result.task)
        annotate("notice", f"{result.model_id}: {energy.mean:.4g} {unit}, {stars}")
    if not result.canonical:
        print("the result is not canonical: " + "; ".join(result.non_canonical_reasons))
    return EXIT_OK


def download_hub_baseline(repo_id: str, dest: Path) -> Path | None:
    """Download ``energy/result.json`` from ``main`` of a Hub model repo.

    Args:
        repo_id: the model repo.
        dest: a new, empty folder to download into (used as the download's cache, so nothing cached
            earlier is ever taken for the Hub's answer).

    Returns:
        The file, or None when the repo has no ``energy/result.json`` yet (no badge published).

    Raises:
        HubError: the repo does not exist, is private or gated, or the token is refused (exit 4).
        NetworkError: the Hub cannot be reached (exit 5).
    """
    from energy_badge.hub import HubClient

    # A cache of its own (dest is a new, empty folder): a cached "file does not exist" marker or an
    # old copy must never stand in for the Hub's current file when the Hub is down; and a Hub that
    # cannot be reached is a NetworkError, never "no baseline" (that would let a regression through).
    return HubClient().download_file(repo_id, HUB_RESULT_PATH, revision="main", cache_dir=dest)


def step_compare() -> int:
    """Compare the result with the baseline; set ``regressed``, ``verdict``, ``comparison-path``."""
    from energy_badge.compare import compare_results
    from energy_badge.result import load_result

    baseline = env("EB_BASELINE")
    if baseline.lower() in BASELINE_NONE:
        print("no baseline (input baseline is empty): nothing to compare with")
        set_output("regressed", "false")
        set_output("note", "no baseline given: nothing compared")
        return EXIT_OK
    result_path = env("EB_RESULT_PATH")
    if not result_path:
        raise InputError("no result to compare (the measure step gave no result-path)")
    new = load_result(result_path)
    chosen = metric()
    if chosen == "energy" and new.gpu_energy is None:
        raise InputError(
            "the result has no GPU energy (measured with --no-energy?): set the metric input to "
            "throughput to compare queries/s instead"
        )
    if baseline.lower() == BASELINE_HUB:
        repo = hub_repo(new)
        if repo is None:
            raise InputError(
                f"baseline: hub needs the model's Hub repo, and {new.model_id} is a local folder: "
                "set the repo input"
            )
        with group(f"baseline: {HUB_RESULT_PATH} of {repo} (main)"):
            base_path = download_hub_baseline(repo, _temp_dir())
        if base_path is None:
            message = f"{repo} has no {HUB_RESULT_PATH} on main yet: nothing to compare with (first badge?)"
            annotate("notice", message)
            set_output("regressed", "false")
            set_output("note", message)
            return EXIT_OK
        base_name = f"{repo}@main:{HUB_RESULT_PATH}"
    else:
        base_path = Path(baseline)
        base_name = baseline
    base = load_result(base_path)
    comparison = compare_results(base, new, max_regression=max_regression(), metric=chosen)
    out = _temp_dir() / "comparison.json"
    record = {"comparison": comparison.to_dict(), "base_name": base_name, "new_name": Path(result_path).name}
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with group(f"compare with {base_name}: {comparison.verdict}"):
        print(comparison.sentence())
        for note in comparison.notes:
            print(f"note: {note}")
    if comparison.verdict == "worse":
        annotate("warning", comparison.sentence())
    set_output("regressed", "true" if comparison.regressed else "false")
    set_output("verdict", comparison.verdict)
    set_output("change", f"{100 * comparison.change:.3g}")
    set_output("comparison-path", str(out))
    return EXIT_OK


def step_publish() -> int:
    """Publish the badge to the Hub (``pr`` or ``commit``) unless ``none`` or regressed."""
    mode = publish_mode()
    if mode == "none":
        print("publish: none (nothing published)")
        set_output("status", "skipped")
        return EXIT_OK
    if env("EB_REGRESSED").lower() == "true":
        annotate("warning", "not published: the result regressed against the baseline")
        set_output("status", "skipped-regressed")
        return EXIT_OK
    from energy_badge import hub
    from energy_badge.publish import publish_plan
    from energy_badge.rating import load_table, rate
    from energy_badge.result import load_result

    result_path = env("EB_RESULT_PATH")
    if not result_path:
        raise InputError("no result to publish (the measure step gave no result-path)")
    result = load_result(result_path)
    repo = hub_repo(result)
    if repo is None:
        raise InputError(f"{result.model_id} is a local folder: set the repo input to the Hub model repo")
    plan = publish_plan(result, rate(result, load_table()), repo_id=repo, create_pr=mode == "pr")
    with group(f"publish to {repo} ({'pull request' if mode == 'pr' else 'commit to main'})"):
        outcome = hub.commit_plan(plan, on_event=lambda line: print(line, flush=True))
    endpoint = hub.resolve_endpoint()
    url = outcome.pr_url or (
        f"{endpoint}/{repo}/commit/{outcome.commit_sha}" if outcome.commit_sha else f"{endpoint}/{repo}"
    )
    annotate("notice", f"{repo}: {outcome.status.replace('_', ' ')} {url}")
    set_output("status", outcome.status)
    set_output("repo", repo)
    set_output("url", url)
    set_output("commit", outcome.commit_sha or "")
    return EXIT_OK


_PUBLISH_LINES: dict[str, str] = {
    "committed": "Published: committed to main of {repo}: {url}",
    "pr_opened": "Published: opened a pull request on {repo}: {url}",
    "pr_updated": "Published: updated the pull request on {repo}: {url}",
    "unchanged": "Published: no change, the Hub already has this badge ({url})",
    "skipped": "Not published (input publish is none).",
    "skipped-regressed": "Not published: the result regressed against the baseline.",
}


def step_summary() -> int:
    """Write the job summary from whatever the earlier steps produced (never fails the job)."""
    try:
        add_summary(summary_markdown())
    except Exception as err:  # the summary is a report: a failure here must not hide the real one
        annotate("warning", f"could not write the job summary: {err}")
    return EXIT_OK


def summary_markdown() -> str:
    """The job summary's Markdown, from the environment the summary step gets."""
    from energy_badge.compare import Comparison
    from energy_badge.rating import rate
    from energy_badge.result import load_result
    from energy_badge.summary import comparison_markdown, md, result_markdown

    parts: list[str] = []
    result_path = env("EB_RESULT_PATH")
    if result_path and Path(result_path).is_file():
        result = load_result(result_path)
        parts.append(result_markdown(result, rate(result)))
    else:
        outcome = env("EB_MEASURE_OUTCOME", "unknown")
        what = f"{env('EB_MODEL') or 'the model'} ({env('EB_TASK') or 'no task'})"
        parts.append(
            f"### AI energy: no result\n\nThe measurement of {md(what)} did not finish (step outcome: "
            f"{md(outcome)}); the job log says why.\n"
        )
    comparison_path = env("EB_COMPARISON_PATH")
    if comparison_path and Path(comparison_path).is_file():
        record = json.loads(Path(comparison_path).read_text("utf-8"))
        parts.append(
            comparison_markdown(
                Comparison.from_dict(record["comparison"]),
                base_name=record.get("base_name"),
                new_name=record.get("new_name"),
            )
        )
    elif env("EB_COMPARE_OUTCOME") == "failure":
        parts.append("**Comparison with the baseline failed**: the job log says why.\n")
    elif env("EB_COMPARE_NOTE"):
        parts.append(f"Baseline: {md(env('EB_COMPARE_NOTE'))}.\n")
    status = env("EB_PUBLISH_STATUS")
    if status in _PUBLISH_LINES:
        repo = md(env("EB_PUBLISH_REPO") or env("EB_REPO") or "the model's repo")
        parts.append(_PUBLISH_LINES[status].format(repo=repo, url=env("EB_PUBLISH_URL")) + "\n")
    elif env("EB_PUBLISH_OUTCOME") == "failure":
        parts.append("**Publishing to the Hub failed**: the job log says why.\n")
    return "\n".join(parts)


def step_gate() -> int:
    """Exit 1 with an ``::error::`` annotation when the result regressed."""
    from energy_badge.compare import Comparison

    if env("EB_REGRESSED").lower() != "true":
        print("no regression")
        return EXIT_OK
    message = "energy regressed against the baseline"
    comparison_path = env("EB_COMPARISON_PATH")
    if comparison_path and Path(comparison_path).is_file():
        record = json.loads(Path(comparison_path).read_text("utf-8"))
        message = Comparison.from_dict(record["comparison"]).sentence()
    annotate("error", message, title="energy-badge: regression")
    return EXIT_CHECK_FAILED


STEPS: dict[str, Callable[[], int]] = {
    "measure": step_measure,
    "compare": step_compare,
    "publish": step_publish,
    "summary": step_summary,
    "gate": step_gate,
}


def main(argv: list[str] | None = None) -> int:
    """Run one step; library errors become an ``::error::`` annotation and their exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in STEPS:
        print(f"usage: python -m energy_badge.action {{{','.join(STEPS)}}}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return STEPS[argv[0]]()
    except EnergyBadgeError as err:
        annotate("error", str(err))
        return err.exit_code
    except Exception as err:  # an unexpected failure: the traceback, then a clear annotation
        import traceback

        traceback.print_exc()
        annotate("error", f"{argv[0]} failed unexpectedly: {type(err).__name__}: {err}")
        return EXIT_RUNTIME
