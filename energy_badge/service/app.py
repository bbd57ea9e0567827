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
from types import SimpleNamespace
from typing import Any

from energy_badge.bulk.state import StateStore, utc_now
from energy_badge.service.page import Entry, render_page
from energy_badge.service.webhook import WebhookError, parse_event, repo_id_problem
from energy_badge.service.worker import queue_key

__all__ = ["BADGE_MAX_AGE", "DEFAULT_MAX_BODY", "ServiceState", "create_app"]

log = logging.getLogger("energy_badge.service")

DEFAULT_MAX_BODY = 64 * 1024
#: Badges are cached by browsers and proxies for this long (the ETag revalidates them afterwards).
BADGE_MAX_AGE = 300
_MEASURED = ("measured", "publishing", "published", "pr_open")
_LATEST = (
    "SELECT id, model, task, status, updated_at, canonical, stars, wh_per_1k, hardware_class, finished_at "
    "FROM jobs WHERE model = ? AND result_json IS NOT NULL AND status IN ({})".format(
        ",".join(f"'{s}'" for s in _MEASURED)
    )
)


class _TooLarge(Exception):
    pass


class ServiceState:
    """The app's view of the state file: per-thread connections, counters, and small caches."""

    def __init__(self, state_path: str, *, task: str, hardware_class: str, table: str | None = None) -> None:
        self.state_path = state_path
        self.task = task
        self.key = queue_key(task, hardware_class)
        self.table_path = table
        self._local = threading.local()
        self._lock = threading.Lock()
        self.webhooks: Counter[str] = Counter()
        self.badges: Counter[tuple[str, str]] = Counter()
        self._cache: dict[tuple[int, str, str], tuple[bytes, str]] = {}
        self._table: dict | None = None
        self._stores: list[StateStore] = []
        store = self.store()  # creates the file and its schema once, up front
        with store.transaction() as conn:  # a lookup index for badges (idempotent, additive)
            conn.execute("CREATE INDEX IF NOT EXISTS service_jobs_by_model ON jobs (model)")

    def store(self) -> StateStore:
        store = getattr(self._local, "store", None)
        if store is None:
            store = StateStore(self.state_path, exclusive=False)
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()

    def count(self, counter: Counter[Any], key: Any) -> None:
        with self._lock:
            counter[key] += 1

    @property
    def table(self) -> dict:
        if self._table is None:
            from energy_badge.rating import load_table

            self._table = load_table(self.table_path)
        return self._table

    # -- reads ----------------------------------------------------------------------------------

    def latest(self, model: str, *, canonical: bool) -> Any:
        """The latest measured row of ``model`` (canonical only when asked), or None."""
        query = _LATEST + (" AND canonical = 1" if canonical else "") + " ORDER BY finished_at DESC, id DESC"
        return self.store().conn.execute(query + " LIMIT 1", (model,)).fetchone()

    def result_json(self, row_id: int) -> str:
        row = self.store().conn.execute("SELECT result_json FROM jobs WHERE id = ?", (row_id,)).fetchone()
        return row[0]

    def badge(self, model: str, fmt: str) -> tuple[bytes, str]:
        """(body, etag) of a model's badge in ``svg`` or ``json``; rendered once per stored result."""
        from energy_badge.rating import table_source
        from energy_badge.render import badge_svg, shields_json

        row = self.latest(model, canonical=True)
        key = (row["id"], row["updated_at"], fmt) if row is not None else (0, model, fmt)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        if row is None:
            result = SimpleNamespace(model_id=model, task=self.task, hardware_class=None, gpu_name=None)
            rating: Any = SimpleNamespace(
                stars=None,
                value=None,
                unrated_reason="not measured yet",
                table_version=table_source(self.table)["table_version"],
            )
        else:
            from energy_badge.rating import rate
            from energy_badge.result import EnergyResult

            result = EnergyResult.from_dict(
                json.loads(self.result_json(row["id"])), source=f"{model}'s result"
            )
            rating = rate(result, self.table)
        if fmt == "svg":
            body = badge_svg(result, rating).encode("utf-8")
        else:
            data = shields_json(result, rating)
            data["cacheSeconds"] = BADGE_MAX_AGE
            if row is None:
                data["message"] = "not measured"
            body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with self._lock:
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = (body, etag)
        return body, etag

    def leaderboard(self) -> list[Entry]:
        """Each model's latest canonical result, per task."""
        query = (
            "SELECT id, model, task, stars, wh_per_1k, hardware_class, finished_at, result_json FROM jobs "
            "WHERE canonical = 1 AND result_json IS NOT NULL AND wh_per_1k IS NOT NULL AND status IN ({}) "
            "ORDER BY finished_at, id"
        ).format(",".join(f"'{s}'" for s in _MEASURED))
        latest: dict[tuple[str, str], Entry] = {}
        for row in self.store().conn.execute(query):
            gpu = (json.loads(row["result_json"]).get("energy") or {}).get("gpu") or {}
            latest[(row["task"], row["model"])] = Entry(
                model=row["model"],
                task=row["task"],
                stars=row["stars"],
                wh=float(row["wh_per_1k"]),
                low=gpu.get("ci95_low"),
                high=gpu.get("ci95_high"),
                hardware=row["hardware_class"],
                date=row["finished_at"] or "",
            )
        return list(latest.values())

    # -- writes ---------------------------------------------------------------------------------

    def enqueue(self, model: str, sha: str) -> tuple[str, int | None, str | None]:
        """Queue (model, sha) for the service's task: (``queued`` | ``duplicate`` | ``ignored``, row, reason).

        A push that only moved ``main`` to our own badge commit is ignored; a queued row of an older
        revision that was never measured is marked skipped (superseded), as ``bulk`` does.
        """
        store = self.store()
        conn = store.conn
        own = conn.execute(
            "SELECT id FROM jobs WHERE model = ? AND commit_sha = ? LIMIT 1", (model, sha)
        ).fetchone()
        if own is not None:
            return "ignored", int(own[0]), "the new head is our own badge commit"
        inserted = store.insert_many(
            [{"model": model, "revision": sha, "status": "pending", "source": "webhook", **self.key}]
        )
        row = conn.execute(
            "SELECT id FROM jobs WHERE model = ? AND revision = ? AND task = ? AND workload_version = ? "
            "AND hardware_class = ?",
            (model, sha, self.key["task"], self.key["workload_version"], self.key["hardware_class"]),
        ).fetchone()
        row_id = int(row[0])
        if not inserted:
            return "duplicate", row_id, None
        older = [
            int(r[0])
            for r in conn.execute(
                "SELECT id FROM jobs WHERE model = ? AND task = ? AND workload_version = ? "
                "AND hardware_class = ? AND status = 'pending' AND id != ?",
                (model, self.key["task"], self.key["workload_version"], self.key["hardware_class"], row_id),
            )
        ]
        if older:
            reason = f"superseded by a newer revision {sha[:12]}"
            store.update_many(
                [(i, {"status": "skipped", "reason": reason, "reason_code": "superseded"}) for i in older]
            )
        return "queued", row_id, None

    # -- metrics --------------------------------------------------------------------------------

    def metrics(self) -> str:
        counts = self.store().counts()
        from energy_badge.bulk.state import STATUSES

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
    on_startup: Any = None,
    on_shutdown: Any = None,
) -> Any:
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
    async def lifespan(app: Any):  # noqa: ANN202
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
        status, row_id, reason = await run_in_threadpool(service.enqueue, event.model, event.sha)
        service.count(service.webhooks, status)
        out = {"status": status, "model": event.model, "revision": event.sha, "task": task, "job": row_id}
        if reason:
            out["reason"] = reason
        return JSONResponse(out, status_code=202 if status == "queued" else 200)

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
            service.result_json(row["id"]),
            media_type="application/json",
            headers={"Cache-Control": "no-cache", "X-Energy-Badge-Status": row["status"]},
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
