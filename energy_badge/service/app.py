"""The badge service's web app (FastAPI): webhook intake, live badges, results, leaderboard, metrics.

Routes:

* ``POST /webhook``: a Hub webhook (:mod:`energy_badge.service.webhook`). The ``X-Webhook-Secret``
  header must equal the configured secret (constant-time compare; 401 otherwise); bodies over
  ``max_body`` bytes get 413, checked on the bytes received (a lying or missing Content-Length,
  chunked bodies); malformed JSON or an invalid payload gets 422. A model push queues one job per
  (model, head sha, task) (202 ``queued``; again: 200 ``duplicate``); other events get 200 ``ignored``.
* ``GET /badge/{namespace}/{name}.svg`` and ``.json`` (shields.io endpoint): the latest canonical
  result's badge, or a grey "unrated" badge saying the model is not measured; ``Cache-Control``,
  a strong ``ETag`` and 304 on ``If-None-Match``.
* ``GET /results/{namespace}/{name}``: the latest measured result's JSON (404 when none).
* ``GET /``: the leaderboard page; ``GET /healthz``; ``GET /metrics`` (Prometheus text format 0.0.4,
  written here by hand: no extra dependency).

Every error is a JSON object ``{"error": "..."}`` with its status code; never a stack trace.
The state is opened without the bulk lock, one SQLite connection per thread (WAL mode: the worker's
writes never block these reads).
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations at run time.

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from energy_badge.bulk.state import STATUSES, Enqueued, StateStore, StoredResult, utc_now
from energy_badge.errors import InvalidFileError
from energy_badge.hub import repo_id_problem
from energy_badge.service.page import Entry, render_page
from energy_badge.service.webhook import WebhookError, parse_event
from energy_badge.service.worker import queue_key

if TYPE_CHECKING:
    from fastapi import FastAPI

    from energy_badge.rating import RatingTable
    from energy_badge.result import EnergyResult

__all__ = ["BADGE_MAX_AGE", "DEFAULT_MAX_BODY", "ServiceState", "create_app"]

log = logging.getLogger("energy_badge.service")

DEFAULT_MAX_BODY = 64 * 1024
#: Badges are cached by browsers and proxies for this long (the ETag revalidates them afterwards).
BADGE_MAX_AGE = 300
_CACHE_SIZE = 4096


class _TooLarge(Exception):
    pass


class ServiceState:
    """The app's view of the state file: per-thread stores, counters, and small caches.

    Every read and write of jobs goes through :class:`~energy_badge.bulk.state.StateStore`'s API;
    stored results are decoded by :mod:`energy_badge.bulk.codec` (once per stored version).
    """

    def __init__(self, state_path: str, *, task: str, hardware_class: str, table: str | None = None) -> None:
        self.state_path = state_path
        self.task = task
        self.key = queue_key(task, hardware_class)
        self.table_path = table
        self._local = threading.local()
        self._lock = threading.Lock()
        self.webhooks: Counter[str] = Counter()
        self.badges: Counter[tuple[str, int]] = Counter()
        self._cache: dict[tuple[int, str, str], tuple[bytes, str]] = {}
        self._results: dict[tuple[int, str], EnergyResult] = {}
        self._table: RatingTable | None = None
        self._stores: list[StateStore] = []
        self.store()  # creates the file, its schema and its indexes once, up front

    def store(self) -> StateStore:
        """This thread's store (SQLite connections belong to their thread); opened without the lock."""
        store: StateStore | None = getattr(self._local, "store", None)
        if store is None:
            store = StateStore(self.state_path, exclusive=False)
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store

    def close(self) -> None:
        """Close every thread's store."""
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()

    def count(self, counter: Counter[Any], key: object) -> None:
        """Count one request (thread-safe)."""
        with self._lock:
            counter[key] += 1

    @property
    def table(self) -> "RatingTable":
        """The rating table (loaded once)."""
        if self._table is None:
            from energy_badge.rating import load_table

            self._table = load_table(self.table_path)
        return self._table

    # -- reads ----------------------------------------------------------------------------------

    def latest(self, model: str, *, canonical: bool) -> StoredResult | None:
        """The latest measured row of ``model`` (canonical only when asked), or None."""
        return self.store().latest_result(model, canonical=canonical)

    def result_text(self, row: StoredResult) -> str:
        """The JSON text of a row's stored result."""
        return self.store().result_text(row.id) or ""

    def result(self, row: StoredResult) -> "EnergyResult":
        """A row's stored result, decoded (once per stored version).

        Raises:
            InvalidFileError: the stored result is not a valid result.
        """
        from energy_badge.bulk.codec import result_from_state

        key = (row.id, row.updated_at)
        with self._lock:
            hit = self._results.get(key)
        if hit is not None:
            return hit
        result = result_from_state(self.result_text(row), model=row.model)
        with self._lock:
            if len(self._results) > _CACHE_SIZE:
                self._results.clear()
            self._results[key] = result
        return result

    def badge(self, model: str, fmt: str) -> tuple[bytes, str]:
        """(body, etag) of a model's badge in ``svg`` or ``json``; rendered once per stored result."""
        from energy_badge.rating import Rating, unmeasured_rating
        from energy_badge.render import badge_svg, shields_json
        from energy_badge.result import EnergyResult

        row = self.latest(model, canonical=True)
        key = (row.id, row.updated_at, fmt) if row is not None else (0, model, fmt)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        result: EnergyResult | None = None
        rating: Rating
        if row is None:
            rating = unmeasured_rating(model, self.task, self.table)
        else:
            from energy_badge.rating import rate

            result = self.result(row)
            rating = rate(result, self.table)
        if fmt == "svg":
            body = badge_svg(result, rating).encode("utf-8")
        else:
            data = shields_json(rating)
            data["cacheSeconds"] = BADGE_MAX_AGE
            if row is None:
                data["message"] = "not measured"
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with self._lock:
            if len(self._cache) > _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = (body, etag)
        return body, etag

    def leaderboard(self) -> list[Entry]:
        """Each model's latest canonical result, per task."""
        entries = []
        for row in self.store().latest_canonical_results():
            try:
                energy = self.result(row).gpu_energy
            except InvalidFileError as err:  # shown without its interval rather than not at all
                log.warning("leaderboard: %s", err)
                energy = None
            entries.append(
                Entry(
                    model=row.model,
                    task=row.task,
                    stars=row.stars,
                    wh=float(row.wh_per_1k or 0.0),
                    low=energy.ci95_low if energy is not None else None,
                    high=energy.ci95_high if energy is not None else None,
                    hardware=row.hardware_class,
                    date=row.finished_at or "",
                )
            )
        return entries

    # -- writes ---------------------------------------------------------------------------------

    def enqueue(self, model: str, sha: str) -> Enqueued:
        """Queue (model, sha) for the service's task: ``queued``, ``duplicate``, or ``ignored`` when
        the new head is our own badge commit (:meth:`~energy_badge.bulk.state.StateStore.enqueue`)."""
        return self.store().enqueue(model, sha, self.key, source="webhook")

    # -- metrics --------------------------------------------------------------------------------

    def metrics(self) -> str:
        """The Prometheus text of the job counts and request counters."""
        counts = self.store().counts()
        lines = [
            "# HELP energy_badge_jobs Jobs in the state by status.",
            "# TYPE energy_badge_jobs gauge",
        ]
        lines += [f'energy_badge_jobs{{status="{s}"}} {counts.get(s, 0)}' for s in STATUSES]
        lines += [
            "# HELP energy_badge_webhooks_total Webhook requests by outcome.",
            "# TYPE energy_badge_webhooks_total counter",
        ]
        with self._lock:
            webhooks = dict(self.webhooks)
            badges = dict(self.badges)
        for outcome in sorted(set(webhooks) | {"queued", "duplicate", "ignored", "unauthorized", "invalid"}):
            lines.append(f'energy_badge_webhooks_total{{outcome="{outcome}"}} {webhooks.get(outcome, 0)}')
        lines += [
            "# HELP energy_badge_badge_requests_total Badge requests by format and status code.",
            "# TYPE energy_badge_badge_requests_total counter",
        ]
        for (fmt, code), n in sorted(badges.items()):
            lines.append(f'energy_badge_badge_requests_total{{format="{fmt}",code="{code}"}} {n}')
        return "\n".join(lines) + "\n"


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(part.strip().removeprefix("W/") == etag for part in header.split(","))


def create_app(
    state_path: str,
    *,
    webhook_secret: str,
    task: str,
    hardware_class: str,
    table: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    on_startup: Callable[[], None] | None = None,
    on_shutdown: Callable[[], None] | None = None,
) -> "FastAPI":
    """Build the FastAPI app.

    Args:
        state_path: the SQLite state shared with the worker (and ``bulk``).
        webhook_secret: the secret the Hub sends in ``X-Webhook-Secret`` (required, non-empty).
        task: the task queued models are measured on (the Hub's payload carries no pipeline tag).
        hardware_class: the class queued rows are keyed by (the worker's, e.g. ``H100`` or ``cpu``).
        table: rating table file (default: all the shipped tables combined).
        max_body: the largest webhook body accepted, in bytes.
        on_startup, on_shutdown: callables run with the app (``serve --workers 1`` starts its worker).

    Raises:
        UsageError: no secret.
    """
    import contextlib

    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from energy_badge import __version__
    from energy_badge.errors import UsageError

    if not webhook_secret:
        raise UsageError("a webhook secret is required: --webhook-secret or ENERGY_BADGE_WEBHOOK_SECRET")
    secret = webhook_secret.encode("utf-8")
    service = ServiceState(state_path, task=task, hardware_class=hardware_class, table=table)
    started = time.monotonic()

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        if on_startup is not None:
            on_startup()
        try:
            yield
        finally:
            if on_shutdown is not None:
                on_shutdown()
            service.close()

    app = FastAPI(
        title="energy-badge service",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = service

    def error(status: int, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse({"error": message, **extra}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "not found"
        return error(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(422, "invalid request")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error(500, "internal error")

    async def read_body(request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None:
            try:
                if int(length) > max_body:
                    raise _TooLarge
            except ValueError:
                pass  # counted below
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        given = request.headers.get("x-webhook-secret", "").encode("utf-8")
        if not hmac.compare_digest(given, secret):
            service.count(service.webhooks, "unauthorized")
            return error(401, "missing or wrong X-Webhook-Secret")
        try:
            body = await read_body(request)
        except _TooLarge:
            service.count(service.webhooks, "too_large")
            return error(413, f"the body is larger than {max_body} bytes")
        try:
            event = parse_event(json.loads(body))
        except (ValueError, RecursionError) as err:  # JSONDecodeError, UnicodeDecodeError, WebhookError
            service.count(service.webhooks, "invalid")
            message = str(err) if isinstance(err, WebhookError) else "the body is not valid JSON"
            return error(422, message)
        if not event.enqueue:
            service.count(service.webhooks, "ignored")
            return JSONResponse({"status": "ignored", "reason": event.reason})
        assert event.model is not None and event.sha is not None
        queued = await run_in_threadpool(service.enqueue, event.model, event.sha)
        service.count(service.webhooks, queued.status)
        out: dict[str, object] = {
            "status": queued.status,
            "model": event.model,
            "revision": event.sha,
            "task": task,
            "job": queued.row_id,
        }
        if queued.reason:
            out["reason"] = queued.reason
        return JSONResponse(out, status_code=202 if queued.status == "queued" else 200)

    def check_repo(namespace: str, name: str) -> str:
        repo_id = f"{namespace}/{name}"
        problem = repo_id_problem(repo_id)
        if problem is not None:
            raise StarletteHTTPException(422, f"invalid repo id: {problem}")
        return repo_id

    @app.get("/badge/{namespace}/{filename}")
    def badge(namespace: str, filename: str, request: Request) -> Response:
        name, dot, fmt = filename.rpartition(".")
        if not dot or fmt not in ("svg", "json"):
            service.count(service.badges, ("?", 404))
            raise StarletteHTTPException(404, "badges are /badge/<namespace>/<name>.svg or .json")
        try:
            model = check_repo(namespace, name)
        except StarletteHTTPException:
            service.count(service.badges, (fmt, 422))
            raise
        body, etag = service.badge(model, fmt)
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={BADGE_MAX_AGE}",
            "Vary": "Accept-Encoding",
        }
        if _etag_matches(request.headers.get("if-none-match"), etag):
            service.count(service.badges, (fmt, 304))
            return Response(status_code=304, headers=headers)
        service.count(service.badges, (fmt, 200))
        media = "image/svg+xml; charset=utf-8" if fmt == "svg" else "application/json"
        return Response(body, media_type=media, headers=headers)

    @app.get("/results/{namespace}/{name}")
    def results(namespace: str, name: str) -> Response:
        model = check_repo(namespace, name)
        row = service.latest(model, canonical=False)
        if row is None:
            raise StarletteHTTPException(404, f"no result for {model}")
        return Response(
            service.result_text(row),
            media_type="application/json",
            headers={"Cache-Control": "no-cache", "X-Energy-Badge-Status": row.status},
        )

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(render_page(service.leaderboard()), headers={"Cache-Control": "no-cache"})

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        counts = service.store().counts()
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "task": task,
                "hardware_class": hardware_class,
                "queue": {"pending": counts.get("pending", 0), "measuring": counts.get("measuring", 0)},
                "uptime_s": round(time.monotonic() - started, 1),
                "time": utc_now(),
            }
        )

    @app.get("/metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(service.metrics(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
