"""Recompute the GPU campaign's figures from its raw files; no GPU needed.

Reads ``benchmarks/results/<gpu>/`` (the result files, overhead figures and ``campaign.jsonl``
that ``campaign.py`` wrote on the GPU) and prints Markdown: the machine, the validity figures
(run-to-run agreement, adaptive against 10 fixed repetitions, harness overhead against a bare loop
with a GPU sync after every query and against one with one sync per pass, Zeus against the
meter's own NVML read, idle power and its share), the calibration population and the rating table
``energy_badge.rating.calibrate`` makes from it.

    python benchmarks/gpu/report.py --gpu h100                       # print the figures
    python benchmarks/gpu/report.py --gpu h100 --table-out T.json    # also write the table
    python benchmarks/gpu/report.py --gpu h100 --check benchmarks/REPORT.md [--check-table T.json]

``--check`` exits 1 unless every figure block printed here appears verbatim in the report (so a
report cannot drift from its raw data); ``--check-table`` likewise for a shipped table's entries.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from energy_badge.meter import Repetition
    from energy_badge.rating import RatingTable
    from energy_badge.result import EnergyResult

REPO = Path(__file__).resolve().parent.parent.parent
TASKS = (
    "text-classification",
    "sentence-similarity",
    "question-answering",
    "text-generation",
    "summarization",
)
AGREEMENT_LIMIT = 0.02  # issue 7: two independent runs agree within 2 %


def _load(path: Path) -> EnergyResult:
    from energy_badge.result import load_result

    return load_result(path)


def _pct(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{100 * x:+.{digits}f} %"


def _num(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "–"
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"


def _energy(result: EnergyResult) -> str:
    stats = result.gpu_energy
    if stats is None:
        return "–"
    rel = stats.relative_half_width
    return f"{_num(stats.mean)} ± {_num(100 * rel, 2)} %" if rel is not None else _num(stats.mean)


def _windows(result: EnergyResult) -> list[Repetition]:
    """Every measured window of a result: its repetitions, then its prefill phase's."""
    m = result.measurement
    return list(m.repetitions) + (list(m.prefill.repetitions) if m.prefill is not None else [])


def _job_seconds(log: list[dict]) -> dict[str, float]:
    """Wall seconds of the last successful run of each job (process start to exit)."""
    out: dict[str, float] = {}
    for record in log:
        if record.get("status") == "ok":
            out[record["job"]] = record["seconds"]
    return out


def read_log(folder: Path) -> list[dict]:
    path = folder / "campaign.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def machine_block(results: list[EnergyResult]) -> str:
    if not results:
        return "No results."
    hw, sw = results[0].hardware, results[0].software
    gpu = hw.gpus[0] if hw.gpus else None
    rows = [
        ("GPU", f"{gpu.name if gpu else '–'} (class {hw.hardware_class})"),
        ("power limit", f"{gpu.power_limit_w if gpu and gpu.power_limit_w is not None else '–'} W"),
        ("driver / CUDA driver", f"{hw.driver_version} / {hw.cuda_driver_version}"),
        ("CPU", f"{hw.cpu.model} × {hw.cpu.count}"),
        ("software", ", ".join(f"{k} {v}" for k, v in sw.items() if v)),
    ]
    return "| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def validity_blocks(folder: Path, log: list[dict]) -> list[str]:
    seconds = _job_seconds(log)
    agree = [
        "| task | model | run A | run B | B − A | within 2 % | repetitions A / B |",
        "|---|---|---|---|---|---|---|",
    ]
    fixed = [
        "| task | adaptive: ± (reps, stop) | fixed 10: ± | adaptive s | fixed s | time ratio |",
        "|---|---|---|---|---|---|",
    ]
    over = [
        "| task | queries/pass | time ratio (ours/bare, sync per query) | energy ratio (ours/bare, sync per "
        "query) | time ratio (ours/bare, one sync per pass) | energy ratio (ours/bare, one sync per pass) |",
        "|---|---|---|---|---|---|",
    ]
    for task in TASKS:
        base = folder / "validity" / task
        a, b, f = (base / f"{n}.json" for n in ("run-a", "run-b", "fixed-10"))
        if a.is_file() and b.is_file():
            ra, rb = _load(a), _load(b)
            diff = rb.gpu_energy.mean / ra.gpu_energy.mean - 1
            reps = f"{ra.gpu_energy.n} / {rb.gpu_energy.n}"
            ok = "yes" if abs(diff) <= AGREEMENT_LIMIT else "**no**"
            agree.append(
                f"| {task} | {ra.model_id} | {_energy(ra)} | {_energy(rb)} | {_pct(diff)} | {ok} | {reps} |"
            )
            if f.is_file():
                rf = _load(f)
                ta = seconds.get(f"validity/{task}/run-a")
                tf = seconds.get(f"validity/{task}/fixed-10")
                ratio = f"{tf / ta:.2f}" if ta and tf else "–"
                stop = ra.measurement.stopped_because
                fixed.append(
                    f"| {task} | {_num(100 * ra.gpu_energy.relative_half_width, 2)} % "
                    f"({ra.gpu_energy.n}, {stop}) | {_num(100 * rf.gpu_energy.relative_half_width, 2)} % | "
                    f"{_num(ta)} | {_num(tf)} | {ratio} |"
                )
        o = base / "overhead.json"
        if o.is_file():
            fig = json.loads(o.read_text(encoding="utf-8"))
            ratios = " | ".join(
                f"{fig[k]:.4f}" if k in fig else "–"  # figures written before the one-sync loop lack two
                for k in ("time_ratio", "energy_ratio", "time_ratio_one_sync", "energy_ratio_one_sync")
            )
            over.append(f"| {task} | {fig['queries_per_pass']} | {ratios} |")
    return ["\n".join(agree), "\n".join(fixed), "\n".join(over)]


def nvml_block(results: list[EnergyResult]) -> str:
    """Zeus's GPU energy against the meter's own read of NVML's counter, window by window."""
    diffs = []
    for result in results:
        for window in _windows(result):
            ours, zeus = window.nvml_counter_j, window.gpu_energy_j
            if ours and zeus:
                diffs.append(zeus / ours - 1)
    if not diffs:
        return "No window carries the meter's own NVML read."
    absolute = sorted(abs(d) for d in diffs)
    return (
        "| windows | median (Zeus/NVML − 1) | largest deviation | 95th percentile of abs. deviation |\n"
        "|---|---|---|---|\n"
        f"| {len(diffs)} | {_pct(statistics.median(diffs), 3)} | {_pct(max(diffs, key=abs), 3)} | "
        f"{100 * absolute[min(len(absolute) - 1, int(0.95 * len(absolute)))]:.3f} % |"
    )


def idle_block(results: list[EnergyResult]) -> str:
    rows = [
        "| task | results | idle power W (median) | idle share of energy (min – median – max) |",
        "|---|---|---|---|",
    ]
    for task in TASKS:
        powers, shares = [], []
        for result in results:
            if result.task != task:
                continue
            idle = result.measurement.idle
            if idle is None or not idle.gpu_power_w:
                continue
            powers.append(idle.gpu_power_w)
            reps = result.measurement.repetitions
            shares.append(
                idle.gpu_power_w * sum(r.seconds for r in reps) / sum(r.gpu_energy_j or 0.0 for r in reps)
            )
        if powers:
            rows.append(
                f"| {task} | {len(powers)} | {statistics.median(powers):.1f} | "
                f"{100 * min(shares):.0f} % – {100 * statistics.median(shares):.0f} % – "
                f"{100 * max(shares):.0f} % |"
            )
    return "\n".join(rows)


def calibration_block(calibration: list[EnergyResult], log: list[dict]) -> str:
    seconds = _job_seconds(log)
    rows = [
        "| task | model (random weights) | parameters | Wh per 1000 queries ± 95 % | reps | stop | canonical "
        "| wall s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in sorted(calibration, key=lambda r: (TASKS.index(r.task), r.parameters)):
        m = result.measurement
        job = f"calibration/{result.task}/{result.model_id.replace('/', '--')}"
        rows.append(
            f"| {result.task} | {result.model_id} | {result.parameters / 1e6:,.0f}M | {_energy(result)} | "
            f"{len(m.repetitions)} | {m.stopped_because} | {'yes' if result.canonical else 'no'} | "
            f"{_num(seconds.get(job))} |"
        )
    return "\n".join(rows)


def make_table(calibration: list[EnergyResult], gpu: str) -> RatingTable | str:
    """The rating table of the calibration population (random weights by design), or why there is none."""
    from energy_badge.errors import InputError
    from energy_badge.rating import calibrate

    if not calibration:
        return "no calibration results"
    created = max(r.created_at for r in calibration)[:10]
    try:
        table = calibrate(
            calibration,
            version=f"{created.replace('-', '.')}-{gpu}-log",
            created=created,
            allow_random_weights=True,
        )
    except InputError as error:
        return str(error)
    source = (
        f"Measured by energy-badge's GPU campaign (benchmarks/gpu, issue 7) on {gpu.upper()}: "
        "real architectures built from their public configs with random weights and the workloads' "
        "reference tokenizer (BERT WordPiece); see benchmarks/REPORT.md. " + table.source
    )
    return dataclasses.replace(table, source=source)


def table_block(table: RatingTable | str) -> str:
    if isinstance(table, str):
        return f"No table: {table}"
    rows = ["| task | hardware | size class | n | min | cut points | max |", "|---|---|---|---|---|---|---|"]
    for e in table.entries:
        pop = e.population
        cuts = ", ".join(_num(c) for c in e.cut_points)
        rows.append(
            f"| {e.task} | {e.hardware_class} | {e.size_class or '–'} | {pop.n} | "
            f"{_num(pop.min)} | {cuts} | {_num(pop.max)} |"
        )
    return "\n".join(rows)


def campaign_block(log: list[dict]) -> str:
    if not log:
        return "No campaign log."
    status: dict[str, int] = {}
    for record in log:
        status[record["status"]] = status.get(record["status"], 0) + 1
    spent = sum(r["seconds"] for r in log)
    parts = ", ".join(f"{n} {s}" for s, n in sorted(status.items()))
    return f"{len(log)} job runs ({parts}); {spent:,.0f} s of job wall time in all."


def blocks(folder: Path, gpu: str) -> tuple[list[tuple[str, str]], RatingTable | str]:
    """The report's (heading, Markdown) blocks and the calibrated table (or why there is none)."""
    log = read_log(folder)
    calibration = [_load(p) for p in sorted((folder / "calibration").glob("*/*.json"))]
    validity = [_load(p) for p in sorted((folder / "validity").glob("*/*.json")) if p.name != "overhead.json"]
    everything = validity + calibration
    table = make_table(calibration, gpu)
    agree, fixed, over = validity_blocks(folder, log)
    return (
        [
            ("Machine", machine_block(everything)),
            ("(a) Two independent runs", agree),
            ("(b) Adaptive rule against 10 fixed repetitions", fixed),
            ("(c) Harness overhead", over),
            ("(d) Zeus against the meter's own NVML read", nvml_block(everything)),
            ("(e) Idle power and its share", idle_block(everything)),
            ("Calibration population", calibration_block(calibration, log)),
            ("Rating table", table_block(table)),
            ("Campaign", campaign_block(log)),
        ],
        table,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results"), help="results root")
    parser.add_argument("--gpu", required=True, help="results sub-folder (h100, h200, ...)")
    parser.add_argument("--table-out", help="write the calibrated rating table here")
    parser.add_argument("--check", help="a report that must contain every figure block verbatim")
    parser.add_argument("--check-table", help="a table whose entries must equal the recomputed ones")
    args = parser.parse_args(argv)
    folder = Path(args.results) / args.gpu
    if not folder.is_dir():
        print(f"report: no results folder {folder}", file=sys.stderr)
        return 2
    sections, table = blocks(folder, args.gpu)
    text = "\n\n".join(f"### {head}\n\n{body}" for head, body in sections) + "\n"
    if args.table_out:
        if isinstance(table, str):
            print(f"report: no table to write: {table}", file=sys.stderr)
            return 1
        from energy_badge.rating import write_table

        write_table(table, args.table_out)
    failed = False
    if args.check:
        report = Path(args.check).read_text(encoding="utf-8")
        for head, body in sections:
            if body not in report:
                print(f"report: {args.check} does not hold the recomputed '{head}' figures", file=sys.stderr)
                failed = True
    if args.check_table:
        shipped = json.loads(Path(args.check_table).read_text(encoding="utf-8"))
        if isinstance(table, str) or _entries(shipped) != _entries(_table_json(table)):
            print(
                f"report: {args.check_table} differs from the table recomputed from the results",
                file=sys.stderr,
            )
            failed = True
    if not (args.check or args.check_table):
        print(text, end="")
    elif not failed:
        print("report: the figures and table match the raw results")
    return 1 if failed else 0


def _table_json(table: RatingTable) -> dict[str, Any]:
    from energy_badge.rating import encode_table

    return json.loads(json.dumps(encode_table(table)))


def _entries(table: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("task", "hardware_class", "workload_version", "size_class", "cut_points", "population")
    return [{k: e.get(k) for k in keys} for e in table["entries"]]


if __name__ == "__main__":
    sys.exit(main())
