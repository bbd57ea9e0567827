"""``energy-badge serve`` and ``energy-badge worker``: the badge service for Hub bots."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from energy_badge.cli._options import (
    executor_options,
    idle_reuse_option,
    measurement_options,
    meter_config,
    protocol_option,
    retry_options,
    table_option,
)
from energy_badge.tasks import AUTO
from energy_badge.workload import TASKS

if TYPE_CHECKING:
    from energy_badge.bulk.config import BulkConfig
    from energy_badge.service.worker import ServiceWorker

DEFAULT_STATE = "energy-bot.sqlite"
SECRET_ENV = "ENERGY_BADGE_WEBHOOK_SECRET"


def _worker_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options shared by ``serve`` and ``worker`` (what to measure, how to publish)."""
    options = [
        click.option(
            "--state",
            "state_path",
            default=DEFAULT_STATE,
            show_default=True,
            type=click.Path(dir_okay=False),
            help="The SQLite state (the same format as `bulk`'s), shared by the server and the worker.",
        ),
        click.option(
            "--task",
            required=True,
            type=click.Choice((*TASKS, AUTO)),
            help="The task queued models are measured on (the Hub's webhook carries no pipeline tag); "
            "auto: each model's own, the task its Hub pipeline tag names (asked of the Hub per push).",
        ),
        click.option(
            "--hardware-class",
            help="The GPU class jobs are queued for and measured on, e.g. H100 [default: this machine's, "
            "as `bulk` finds it; `cpu` with --no-energy]. Give the server and the worker the same.",
        ),
        click.option(
            "--publish",
            "policy",
            type=click.Choice(["none", "pr", "commit"]),
            default="none",
            show_default=True,
            help="What the worker does with a canonical result: nothing, one pull request, or a commit.",
        ),
        table_option,
        click.option(
            "--poll",
            type=click.FloatRange(min=0.05),
            default=2.0,
            show_default=True,
            help="Idle poll, seconds.",
        ),
    ]
    fn = idle_reuse_option(measurement_options(fn))
    fn = retry_options(executor_options(protocol_option("sampled")(fn)))
    for option in reversed(options):
        fn = option(fn)
    return fn


def _config(opts: dict[str, Any]) -> BulkConfig:
    from energy_badge.bulk.job import BulkConfig
    from energy_badge.errors import UsageError

    config = BulkConfig(
        task=opts["task"],
        publish=opts["policy"],
        energy=not opts["no_energy"],
        queries=opts["queries"],
        device=opts["device"],
        protocol=opts.get("protocol", "sampled"),
        meter=meter_config(opts),
        hardware_class=opts["hardware_class"],
        max_attempts=opts["max_attempts"],
        retry_backoff_s=opts["retry_backoff"],
        writes_per_minute=opts["writes_per_minute"],
        table=opts["table_file"],
    )
    if config.hardware_class is None:
        if opts["executor"] == "ray":
            raise UsageError(
                "--executor ray needs --hardware-class: the class of the cluster's GPUs the jobs are for"
            )
        import dataclasses

        from energy_badge.bulk.executors import probe_hardware_key

        config = dataclasses.replace(
            config, hardware_class=probe_hardware_key(opts["gpu_index"], config.energy)
        )
    return config


def _log_event(kind: str, details: dict[str, Any]) -> None:
    if kind in ("measuring", "done", "retry", "publishing", "wait"):
        text = " ".join(f"{k}={v}" for k, v in details.items() if v is not None)
        click.echo(f"worker: {kind} {text}", err=True)


def _worker(opts: dict[str, Any], config: BulkConfig, in_flight: int = 1) -> ServiceWorker:
    """The queue's worker, on the executor the options ask for (``in_flight`` measurements at once)."""
    from energy_badge.cli.bulk import _make_executor
    from energy_badge.errors import UsageError
    from energy_badge.service.worker import ServiceWorker

    if in_flight > 1 and opts["executor"] != "ray":
        raise UsageError(
            f"--workers {in_flight} needs --executor ray: the local executor measures one model at a time "
            "on its one GPU (a shared GPU would spoil every measurement)"
        )
    executor = _make_executor(
        opts["executor"],
        opts["ray_address"],
        opts["gpus_per_task"],
        1.0,
        in_flight if opts["executor"] == "ray" else None,
        config.hardware_class,
        opts["gpu_index"],
    )
    return ServiceWorker(
        opts["state_path"], config, executor=executor, on_event=_log_event, poll_s=opts["poll"]
    )


@click.command()
@_worker_options
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: a free port."
)
@click.option(
    "--webhook-secret",
    help=f"The secret the Hub sends in X-Webhook-Secret. Prefer ${SECRET_ENV} (required, one or the "
    "other): a value given here is visible to every user of this machine in the process list "
    "(ps, /proc/<pid>/cmdline).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Measure the queue inside the server with N measurements at once (0: run `energy-badge worker` "
    "instead; N > 1 needs --executor ray, one GPU per measurement).",
)
@click.option(
    "--max-body", type=click.IntRange(min=1024), default=65536, show_default=True, help="Webhook body limit."
)
def serve(host: str, port: int, webhook_secret: str | None, workers: int, max_body: int, **opts: Any) -> None:
    """Run the badge service: Hub webhooks in, live badges and a leaderboard out.

    \b
    POST /webhook                      Hub webhook (X-Webhook-Secret); a model push queues a job
    GET  /badge/<org>/<name>.svg|.json live badge (shields.io endpoint JSON for .json)
    GET  /results/<org>/<name>         the latest result JSON
    GET  /                             leaderboard; /healthz; /metrics (Prometheus)

    Jobs go into the SQLite state (--state); `energy-badge worker` (or --workers 1) measures and
    publishes them with the same code as `bulk`. One worker per state file; with --executor ray,
    --workers N measures N models at once on the Ray cluster, one GPU each.

    The webhook secret comes from $ENERGY_BADGE_WEBHOOK_SECRET (--webhook-secret works too, but
    shows the secret to every user of the machine). Pushes are queued in the Hub's commit order:
    when their webhooks cannot tell (one lost, or no updatedRefs), the Hub is asked where main
    is ($HF_ENDPOINT, $HF_TOKEN). A push that cannot be recorded now (the state locked, gone or
    read-only; the Hub not answering) gets 503 with Retry-After, and /healthz says why.
    """
    import socket

    import uvicorn

    from energy_badge.errors import UsageError
    from energy_badge.service.app import create_app

    if webhook_secret:
        click.echo(
            f"warning: --webhook-secret is visible to every user of this machine in the process list; "
            f"set ${SECRET_ENV} instead",
            err=True,
        )
    secret = webhook_secret or os.environ.get(SECRET_ENV, "")
    if not secret:
        raise UsageError(f"a webhook secret is required: ${SECRET_ENV} (or --webhook-secret)")
    config = _config(opts)
    worker = _worker(opts, config, workers) if workers else None
    thread: threading.Thread | None = None

    def start() -> None:
        nonlocal thread
        if worker is not None:
            thread = threading.Thread(
                target=_run_worker, args=(worker,), name="energy-badge-worker", daemon=True
            )
            thread.start()

    def stop() -> None:
        if worker is not None and thread is not None:
            worker.stop()
            thread.join(30)

    assert config.hardware_class is not None  # _config() sets it
    app = create_app(
        opts["state_path"],
        webhook_secret=secret,
        task=config.task,
        hardware_class=config.hardware_class,
        table=opts["table_file"],
        max_body=max_body,
        on_startup=start,
        on_shutdown=stop,
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so (proto 0 would leave
    # Nagle on, and every keep-alive response would wait ~40 ms for a delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # connections made before uvicorn is up wait in the backlog, not refused
    except OSError as err:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    bound = sock.getsockname()[1]
    where = f"[{host}]" if family == socket.AF_INET6 else host
    click.echo(
        f"energy-badge serve: listening on http://{where}:{bound} (task {config.task}, "
        f"hardware {config.hardware_class}, state {opts['state_path']})",
        err=True,
    )
    sys.stderr.flush()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, server_header=False))
    server.run(sockets=[sock])


def _run_worker(worker: ServiceWorker) -> None:
    try:
        worker.run()
    except Exception as err:  # the server keeps serving badges; the log says why the queue stopped
        from energy_badge.errors import EnergyBadgeError

        message = str(err) if isinstance(err, EnergyBadgeError) else f"{type(err).__name__}: {err}"
        click.echo(f"worker: stopped: {message}", err=True)


@click.command()
@_worker_options
def worker(**opts: Any) -> None:
    """Measure (and publish) the jobs `energy-badge serve` queued, with the same code as `bulk`.

    Runs until Ctrl-C or SIGTERM (exit code 130); a measurement cut short is queued again.
    """
    from energy_badge.cli.bulk import EXIT_INTERRUPTED, _sigterm_as_interrupt

    config = _config(opts)
    from energy_badge.cli.measure import _quiet_libraries

    _quiet_libraries()
    runner = _worker(opts, config)
    click.echo(
        f"energy-badge worker: task {config.task}, hardware {config.hardware_class}, "
        f"publish {config.publish}, state {opts['state_path']}",
        err=True,
    )
    try:
        with _sigterm_as_interrupt():
            runner.run()
    except KeyboardInterrupt:
        pass
    click.echo("worker: stopped", err=True)
    sys.exit(EXIT_INTERRUPTED)


__all__ = ["serve", "worker"]
