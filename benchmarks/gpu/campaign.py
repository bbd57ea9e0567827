"""The GPU campaign of issue 7: validity runs and the calibration population, resumable, on a budget.

Every measurement is a real ``python -m energy_badge measure`` (the command a user runs) on a
catalogue model built from its public config with random weights (``build_models.py``); its result
file and its log are written under ``RESULTS/<gpu class>/`` (``benchmarks/results/h100/``, ...).
A job whose result is already there is skipped, so the campaign continues where the last device
call (or session) stopped once those files are back in the tree.

Jobs, in the order they run:

* ``validity/<task>/run-a`` and ``run-b``: two independent measurements (separate processes) of
  one mid-size model per task, adaptive protocol (3-10 repetitions, 1 % interval);
* ``validity/<task>/fixed-10``: the same model with exactly 10 repetitions;
* ``validity/<task>/overhead``: ``benchmarks/overhead.py --energy`` (our loop against two bare
  loops of the same calls, one with a GPU sync after every query and one with a single sync per
  pass; time and energy, the bare ones read from NVML directly);
* ``calibration/<task>/<org>--<name>``: every catalogue model of the task, smallest first.

Each job runs in a subprocess with a hard timeout of the budget left (minus a margin); a job cut
off writes no result (``measure`` writes atomically) and is logged as ``timeout`` with the seconds
it had, and the larger models of that task are left for a later call. ``campaign.jsonl`` records
every job (start, seconds, status, command, exit code).

    python benchmarks/gpu/campaign.py plan [--results benchmarks/results]
    python benchmarks/gpu/campaign.py run --budget 540 [--part validity|calibration] [--task T]

``run`` needs an NVIDIA GPU with an energy counter (it exits with ``measure``'s exit code 3
otherwise). ``--measure-args`` passes extra options to every ``measure`` (rehearsals on a
simulated GPU use ``--queries`` and short windows; such results are non-canonical and are never
calibrated). See ``benchmarks/gpu/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import build_models  # noqa: E402

TASK_ORDER = (
    "text-classification",
    "sentence-similarity",
    "question-answering",
    "text-generation",
    "summarization",
)

#: One mid-size model per task for the validity runs, and why.
VALIDITY_MODELS: dict[str, str] = {
    "text-classification": "google-bert/bert-base-uncased",
    "sentence-similarity": "sentence-transformers/all-mpnet-base-v2",
    "question-answering": "deepset/roberta-base-squad2",
    "text-generation": "openai-community/gpt2",
    "summarization": "google-t5/t5-small",
}
VALIDITY_WHY = (
    "The middle of each task's population where its passes fit a device call: a 10-repetition run "
    "of a large generator (over 100 s a pass) does not fit the 10-minute limit of one device command, "
    "so text generation and summarization use a small model."
)
#: Seconds kept free at the end of a call for packing the results (``--margin``).
MARGIN_S = 20.0
#: A job starts only with at least this many seconds of the budget left (``--min-job``).
MIN_JOB_S = 30.0


@dataclass
class Job:
    """One unit of campaign work."""

    name: str  # "validity/text-classification/run-a", "calibration/summarization/google-t5--t5-small"
    kind: str  # "measure" or "overhead"
    task: str
    model_id: str
    extra_args: list[str] = field(default_factory=list)
    parameters: int | None = None

    @property
    def result_name(self) -> str:
        return self.name + ".json"


def gpu_folder_name() -> str:
    """The results folder of this machine's GPU class (``h100``), from NVML via energy_badge."""
    from energy_badge import hardware

    info = hardware.probe_hardware([0])
    if not info.hardware_class:
        names = ", ".join(g.name for g in info.gpus) or "no GPU"
        raise SystemExit(f"campaign: no hardware class for {names}; results would have nowhere to go")
    return info.hardware_class.lower()


def jobs(
    catalogue: dict[str, Any],
    tasks: list[str],
    part: str | None,
    only: list[str] | None = None,
    validity_models: dict[str, str] | None = None,
) -> list[Job]:
    """All the campaign's jobs for ``tasks``, in running order (``part``: only that part; ``only``:
    only the calibration models with these ids; ``validity_models``: task -> id overrides)."""
    models = [m for m in catalogue["models"] if not only or m["id"] in only]
    out: list[Job] = []
    if part in (None, "validity"):
        for task in tasks:
            mid = {**VALIDITY_MODELS, **(validity_models or {})}[task]
            base = f"validity/{task}"
            out += [
                Job(f"{base}/run-a", "measure", task, mid),
                Job(f"{base}/run-b", "measure", task, mid),
                Job(
                    f"{base}/fixed-10",
                    "measure",
                    task,
                    mid,
                    ["--min-repetitions", "10", "--max-repetitions", "10"],
                ),
                Job(f"{base}/overhead", "overhead", task, mid),
            ]
    if part in (None, "calibration"):
        for task in tasks:
            members = [m for m in models if m["task"] == task]
            members.sort(key=lambda m: m["published_parameters"])
            for m in members:
                name = f"calibration/{task}/{build_models.folder_name(m['id'])}"
                out.append(Job(name, "measure", task, m["id"], parameters=m["published_parameters"]))
    return out


def done(results: Path, job: Job) -> bool:
    """A job is done when its result (or overhead figures) file is in the results folder."""
    return (results / job.result_name).is_file()


def link_models(built: list[dict[str, Any]], root: Path) -> None:
    """Make ``root/<org>/<name>`` point at each built folder, so ``measure`` records the Hub id."""
    for item in built:
        link = root / item["id"]
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path(item["path"]).resolve(), target_is_directory=True)


def command(
    job: Job, results: Path, measure_args: list[str], overhead_args: list[str] | None = None
) -> list[str]:
    """The command line of a job (run with the models' link folder as working directory)."""
    out = results / job.result_name
    if job.kind == "overhead":
        return [
            sys.executable,
            str(REPO / "benchmarks" / "overhead.py"),
            "--model",
            job.model_id,
            "--task",
            job.task,
            "--random-weights",
            "--energy",
            "--queries",
            "200",
            "--rounds",
            "3",
            "--json",
            str(out),
            *(overhead_args or []),
        ]
    return [
        sys.executable,
        "-m",
        "energy_badge",
        "measure",
        job.model_id,
        "--task",
        job.task,
        "--random-weights",
        "-o",
        str(out),
        *job.extra_args,
        *measure_args,
    ]


def _validity(args: argparse.Namespace) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in args.validity_model or []]
    if any(len(p) != 2 or p[0] not in TASK_ORDER for p in pairs):
        raise SystemExit("campaign: --validity-model takes TASK=MODEL_ID")
    return dict(pairs)  # type: ignore[arg-type]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    deadline = started + args.budget - args.margin
    catalogue = build_models.load_catalogue()
    tasks = args.task or list(TASK_ORDER)
    gpu = args.gpu or gpu_folder_name()
    results = Path(args.results).resolve() / gpu
    results.mkdir(parents=True, exist_ok=True)
    models_dir = Path(args.models).resolve()
    todo = [j for j in jobs(catalogue, tasks, args.part, args.only, _validity(args)) if not done(results, j)]
    needed = sorted({j.model_id for j in todo})
    built = build_models.build(models_dir / "folders", only=needed) if needed else []
    link_models(built, models_dir / "ids")
    log_path = results / "campaign.jsonl"
    measure_args = shlex.split(args.measure_args or "")
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path)
    cut_off: set[str] = set()  # (task) whose larger calibration models wait for a later call
    ran = timeouts = failures = 0
    print(f"campaign: {len(todo)} jobs to do on {gpu}, {args.budget:.0f} s budget", flush=True)
    for job in todo:
        left = deadline - time.monotonic()
        if job.name.startswith("calibration/") and job.task in cut_off:
            continue
        if left < args.min_job:
            print(f"campaign: budget spent; {job.name} and later jobs wait for the next call", flush=True)
            break
        out = results / job.result_name
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = command(job, results, measure_args, shlex.split(args.overhead_args or ""))
        t0 = time.monotonic()
        log_file = out.with_suffix(".log")
        record: dict[str, Any] = {
            "job": job.name,
            "model": job.model_id,
            "task": job.task,
            "started_at": _now(),
        }
        print(f"campaign: {job.name} ({left:.0f} s left)", flush=True)
        with open(log_file, "w", encoding="utf-8") as log:
            log.write("$ " + shlex.join(cmd) + "\n")
            log.flush()
            try:
                proc = subprocess.run(
                    cmd, cwd=models_dir / "ids", env=env, stdout=log, stderr=subprocess.STDOUT, timeout=left
                )
                record.update(status="ok" if proc.returncode == 0 else "failed", exit_code=proc.returncode)
            except subprocess.TimeoutExpired:
                record.update(status="timeout", exit_code=None)
        record["seconds"] = round(time.monotonic() - t0, 1)
        record["command"] = shlex.join(cmd)
        ran += 1
        if record["status"] == "timeout":
            timeouts += 1
            cut_off.add(job.task)
            out.unlink(missing_ok=True)
        elif record["status"] == "failed":
            failures += 1
            out.unlink(missing_ok=True)
        with open(log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
        print(f"campaign: {job.name}: {record['status']} in {record['seconds']} s", flush=True)
    remaining = [
        j.name for j in jobs(catalogue, tasks, args.part, args.only, _validity(args)) if not done(results, j)
    ]
    print(
        f"campaign: ran {ran} jobs ({timeouts} cut off by the budget, {failures} failed) in "
        f"{time.monotonic() - started:.0f} s; {len(remaining)} jobs left",
        flush=True,
    )
    return 1 if failures else 0


def plan(args: argparse.Namespace) -> int:
    catalogue = build_models.load_catalogue()
    tasks = args.task or list(TASK_ORDER)
    root = Path(args.results)
    folders = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    gpus = [args.gpu] if args.gpu else sorted(p.name for p in folders) or ["(no results yet)"]
    for gpu in gpus:
        results = root / gpu
        all_jobs = jobs(catalogue, tasks, args.part, args.only, _validity(args))
        pending = [j for j in all_jobs if not done(results, j)]
        print(f"{gpu}: {len(all_jobs) - len(pending)} of {len(all_jobs)} jobs done")
        for job in pending:
            size = f" ({job.parameters / 1e6:,.0f}M parameters)" if job.parameters else ""
            print(f"  pending {job.name}{size}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    for verb in ("plan", "run"):
        p = sub.add_parser(verb)
        p.add_argument("--results", default=str(REPO / "benchmarks" / "results"), help="results root")
        p.add_argument("--task", action="append", choices=TASK_ORDER, help="only this task (repeatable)")
        p.add_argument("--part", choices=("validity", "calibration"), help="only this part")
        p.add_argument("--gpu", help="results sub-folder [the GPU's hardware class, lower case]")
        p.add_argument(
            "--only", action="append", metavar="ID", help="only this calibration model (repeatable)"
        )
        p.add_argument(
            "--validity-model", action="append", metavar="TASK=ID", help="another validity model (rehearsals)"
        )
    runp = sub.choices["run"]
    runp.add_argument("--budget", type=float, required=True, help="seconds this call may spend")
    runp.add_argument(
        "--margin", type=float, default=MARGIN_S, help=f"seconds kept free at the end [{MARGIN_S:.0f}]"
    )
    runp.add_argument(
        "--min-job",
        type=float,
        default=MIN_JOB_S,
        help=f"start a job only with at least this many seconds left [{MIN_JOB_S:.0f}]",
    )
    runp.add_argument("--models", default="/tmp/energy-badge-models", help="where model folders are built")
    runp.add_argument("--measure-args", default="", help="extra options for every measure (rehearsals)")
    runp.add_argument("--overhead-args", default="", help="extra options for overhead.py (rehearsals)")
    args = parser.parse_args(argv)
    return run(args) if args.verb == "run" else plan(args)


if __name__ == "__main__":
    sys.exit(main())
