"""The badge service's web app (FastAPI): webhook intake, live badges, results, leaderboard, metrics.

Routes:

* ``POST /webhook``: a Hub webhook (:mod:`energy_badge.service.webhook`). The ``X-Webhook-Secret``
  header must equal the configured secret (constant-time compare; 401 otherwise); bodies over
  ``max_body`` bytes get 413, checked on the bytes received (a lying or missing Content-Length,
  chunked bodies), and a body that does not arrive within ``body_timeout_s`` gets 408 (the
  connection is closed); malformed JSON or an invalid payload gets 422. A model push queues one
  job per (model, head sha, task), in the Hub's commit order (202 ``queued``; again: 200
  ``duplicate``; an older commit than one known: 200 ``superseded``); other events get 200
  ``ignored``. When the push cannot be recorded now (the state locked by another process, deleted,
  replaced or read-only under the service; the Hub not answering where ``main`` is), the answer is
  503 with ``Retry-After``: the Hub should deliver it again.
* ``GET /badge/{namespace}/{name}.svg`` and ``.json`` (shields.io endpoint): the latest canonical
  result's badge, or a grey "unrated" badge saying the model is not measured; ``Cache-Control``,
  a strong ``ETag`` and 304 on ``If-None-Match``.
* ``GET /results/{namespace}/{name}``: the latest measured result's JSON (404 when none).
* ``GET /``: the leaderboard page, rendered once per change of the state's results (one rendering
  at a time; while a new one is made, the previous page is served), gzip-compressed for clients
  that accept it, with an ``ETag``: a crowd of readers costs a copy of bytes each, never a rendering.
* ``GET /healthz``: 200 ``ok``, or 503 ``unavailable`` with the problems (state gone, replaced,
  read-only, unreadable or locked); ``GET /metrics`` (Prometheus text format 0.0.4, written here by
  hand: no extra dependency).

Every answer carries ``X-Content-Type-Options: nosniff``; the page and the SVG badges a
Content-Security-Policy (:func:`~energy_badge.service.page.page_csp`,
:data:`~energy_badge.service.page.BADGE_CSP`). Every error is a JSON object ``{"error": "..."}``
with its status code; never a stack trace. The state is opened without the bulk lock, one SQLite
connection per thread (WAL mode: the worker's writes never block these reads), through
:class:`~energy_badge.service.store.ServiceState`.
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations at run time.

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from energy_badge.bulk.state import utc_now
from energy_badge.hub import repo_id_problem
from energy_badge.service.page import BADGE_CSP, page_csp
from energy_badge.service.store import DEFAULT_BUSY_TIMEOUT_S, Page, ServiceState, Unavailable
from energy_badge.service.webhook import WebhookError, parse_event

if TYPE_CHECKING:
    from fastapi import FastAPI

    from energy_badge.hub import HubClient

__all__ = [
    "BADGE_MAX_AGE",
    "DEFAULT_BODY_TIMEOUT_S",
    "DEFAULT_MAX_BODY",
    "ServiceState",
    "Unavailable",
    "create_app",
]

log = logging.getLogger("energy_badge.service")

DEFAULT_MAX_BODY = 64 * 1024
#: A webhook body must arrive within this many seconds of the headers.
DEFAULT_BODY_TIMEOUT_S = 10.0
#: Badges are cached by browsers and proxies for this long (the ETag revalidates them afterwards).
BADGE_MAX_AGE = 300

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(part.strip().removeprefix("W/") == etag for part in header.split(","))


class _NoSniff:
    """ASGI middleware: every HTTP answer gets ``X-Content-Type-Options: nosniff`` (errors, 304s)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: _Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: _Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-content-type-options"
                ]
                message["headers"] = [*headers, (b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, send_with_header)


def create_app(
    state_path: str,
    *,
    webhook_secret: str,
    task: str,
    hardware_class: str,
    table: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    page_check_s: float = 0.5,
    hub: "HubClient | None" = None,
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
        body_timeout_s: how long a webhook body may take to arrive once the headers have.
        busy_timeout_s: how long a webhook's write waits for another process's lock on the state.
        page_check_s: the rendered page is checked against the state at most this often.
        hub: the Hub client asked where ``main`` is when pushes arrive out of order (default: one
            for ``HF_ENDPOINT``/``HF_TOKEN``).
        on_startup, on_shutdown: callables run with the app (``serve --workers 1`` starts its worker).

    Raises:
        UsageError: no secret.
        InvalidFileError: the state cannot be opened (read-only, locked, not a state database).
    """
    import contextlib

    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from energy_badge import __version__
    from energy_badge.errors import InvalidFileError, UsageError
    from energy_badge.files import parse_json
    from energy_badge.text import one_line

    if not webhook_secret:
        raise UsageError("a webhook secret is required: ENERGY_BADGE_WEBHOOK_SECRET or --webhook-secret")
    secret = webhook_secret.encode("utf-8")
    service = ServiceState(
        state_path,
        task=task,
        hardware_class=hardware_class,
        table=table,
        hub=hub,
        busy_timeout_s=busy_timeout_s,
        page_check_s=page_check_s,
    )
    started = time.monotonic()
    csp = page_csp()
    rendering = asyncio.Lock()  # one rendering of the page at a time; the others wait for it here

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

    class _App(FastAPI):
        def build_middleware_stack(self) -> Any:
            return _NoSniff(super().build_middleware_stack())  # outermost: 500s get the header too

    app = _App(
        title="energy-badge service",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = service

    def error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
        return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "not found"
        return error(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(422, "invalid request")

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        log.warning("%s %s: 503: %s", request.method, request.url.path, exc)
        return error(503, str(exc), headers={"Retry-After": str(exc.retry_after)})

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

        async def collect() -> bytes:
            chunks, size = [], 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_body:
                    raise _TooLarge
                chunks.append(chunk)
            return b"".join(chunks)

        try:
            return await asyncio.wait_for(collect(), body_timeout_s)
        except asyncio.TimeoutError:  # a half-sent body is not waited for forever
            raise _TooSlow from None

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        given = request.headers.get("x-webhook-secret", "").encode("utf-8")
        if not hmac.compare_digest(given, secret):
            service.count(service.webhooks, "unauthorized")
            return error(401, "missing or wrong X-Webhook-Secret")
        try:
            body = await read_body(request)
        except _TooLarge:
            service.count(service.webhooks, "too_large")
            return error(413, f"the body is larger than {max_body} bytes")
        except _TooSlow:
            service.count(service.webhooks, "too_slow")
            message = f"the body did not arrive within {body_timeout_s:g} s"
            return error(408, message, headers={"Connection": "close"})
        try:
            event = parse_event(parse_json(body, source="the body"))
        except (InvalidFileError, WebhookError) as err:  # not JSON, duplicate keys, too deep, bad payload
            service.count(service.webhooks, "invalid")
            return error(422, str(err))
        if not event.enqueue:
            service.count(service.webhooks, "ignored")
            return JSONResponse({"status": "ignored", "reason": event.reason})
        assert event.model is not None and event.sha is not None
        try:
            queued = await run_in_threadpool(service.enqueue, event.model, event.sha, event.parent)
        except Unavailable:
            service.count(service.webhooks, "unavailable")
            raise
        service.count(service.webhooks, "superseded" if queued.pending else queued.status)
        out: dict[str, object] = {
            "status": "superseded" if queued.pending else queued.status,
            "model": event.model,
            "revision": event.sha,
            "task": task,
            "job": queued.row_id,
        }
        if queued.reason:
            out["reason"] = queued.reason
        if queued.pending:
            out["queued_revision"] = queued.pending
            out["queued_job"] = queued.pending_row
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
        try:
            body, etag = service.badge(model, fmt, BADGE_MAX_AGE)
        except InvalidFileError as err:  # a stored result the codec refuses: say so, never a 500
            service.count(service.badges, (fmt, 422))
            log.warning("badge of %s: %s", model, err)
            raise StarletteHTTPException(422, one_line(str(err), limit=500)) from None
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={BADGE_MAX_AGE}",
            "Vary": "Accept-Encoding",
        }
        if fmt == "svg":
            headers["Content-Security-Policy"] = BADGE_CSP
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

    async def current_page() -> Page:
        page, fresh = await run_in_threadpool(service.cached_page)
        if fresh and page is not None:
            return page
        if page is not None and rendering.locked():
            return page  # a new rendering is under way: the previous page meanwhile
        async with rendering:
            page, fresh = await run_in_threadpool(service.cached_page)  # made while this one waited?
            if fresh and page is not None:
                return page
            return await run_in_threadpool(service.build_page)

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> Response:
        page = await current_page()
        gzipped = "gzip" in request.headers.get("accept-encoding", "").lower()
        etag = page.gzip_etag if gzipped else page.etag
        headers = {
            "Cache-Control": "no-cache",
            "ETag": etag,
            "Vary": "Accept-Encoding",
            "Content-Security-Policy": csp,
        }
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        if gzipped:
            return HTMLResponse(page.gzipped, headers={**headers, "Content-Encoding": "gzip"})
        return HTMLResponse(page.html, headers=headers)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        problems, counts = service.health()
        body: dict[str, object] = {
            "status": "unavailable" if problems else "ok",
            "version": __version__,
            "task": task,
            "hardware_class": hardware_class,
            "queue": {"pending": counts.get("pending", 0), "measuring": counts.get("measuring", 0)},
            "uptime_s": round(time.monotonic() - started, 1),
            "time": utc_now(),
        }
        if problems:
            body["problems"] = problems
            return JSONResponse(body, status_code=503, headers={"Retry-After": "30"})
        return JSONResponse(body)

    @app.get("/metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(service.metrics(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
