"""The one retry policy for Hub requests: what is worth another try, and how long to wait first.

A **read** (model info, a card download, a listing, the discussions list) is retried by
:meth:`RetryPolicy.call` on transient failures only:

* **429**: waited as the Hub says: ``RateLimit: "api";r=0;t=<seconds>`` (the IETF draft header
  huggingface_hub 2.4 parses; like it, we trust it only when ``r`` is 0 and add one second for
  rounding), else ``Retry-After: <seconds>``, else exponential backoff. One wait longer than
  ``max_wait_s`` gives up at once with :class:`~energy_badge.errors.NetworkError`.
* **408 and 5xx**, a dropped or refused connection, a timeout, an answer that is not JSON (a
  proxy's HTML error page): exponential backoff, 1 s, 2 s, 4 s ... at most ``max_backoff_s``.

A caller may say that a transient failure is final after all (``call(..., final=...)``): the
gateway's client does so for a connection refused by a Hub that never answered it (a Hub that is
down or mistyped, not busy; see :class:`~energy_badge.hub.client.HubClient`).

Anything else (404, 401, 403, a gated repo, a bad request) fails at once, and so does a file
download that could not reach the Hub (``LocalEntryNotFoundError``): huggingface_hub's download
functions have already retried it with their own backoff. The **commit POST is
never retried** by this module: a retry could duplicate a commit or a pull request. The publish
round (:mod:`energy_badge.hub.commit`) sorts a failed commit itself, and runs its
read-edit-commit rounds through :meth:`RetryPolicy.rounds`, whose waits are the ones its rounds
ask for (:class:`Again`).

The waits go through ``sleep`` (default :func:`time.sleep`, looked up when called), and each is
announced first to ``on_wait`` as a :class:`Wait`: the bulk job passes its interruptible sleep and
holds its read throttle on a 429; tests pass a fake clock. The loop itself is tenacity's.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from energy_badge.errors import NetworkError

__all__ = [
    "DEFAULT_ATTEMPTS",
    "DEFAULT_MAX_WAIT_S",
    "MAX_BACKOFF_S",
    "Again",
    "RetryPolicy",
    "Wait",
    "backoff",
    "http_status",
    "is_connect_failure",
    "rate_limit_wait",
    "retry_after",
    "too_long",
    "transient_reason",
]

T = TypeVar("T")

DEFAULT_ATTEMPTS = 4
#: The longest single rate-limit wait honoured by default (15 minutes).
DEFAULT_MAX_WAIT_S = 900.0
MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class Wait:
    """A wait about to happen.

    Attributes:
        seconds: how long.
        reason: why, one short line (``rate limited by the Hub (HTTP 429)``).
        rate_limited: True when the Hub asked for it (a 429): throttles shared with other requests
            should hold too.
    """

    seconds: float
    reason: str
    rate_limited: bool = False


class Again(Exception):
    """Raised by a round of :meth:`RetryPolicy.rounds` that must run again.

    Args:
        reason: what went wrong (the last one is quoted when the rounds run out).
        wait: how long to wait before the next round (None: start it at once).
    """

    def __init__(self, reason: str, wait: Wait | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def backoff(attempt: int, cap: float = MAX_BACKOFF_S) -> float:
    """The exponential backoff after failed try number ``attempt`` (1-based): 1, 2, 4 ... ``cap`` s."""
    return min(cap, float(2 ** max(0, attempt - 1)))


def http_status(err: BaseException) -> int | None:
    """The HTTP status of a huggingface_hub HTTP error (None for anything else)."""
    response = getattr(err, "response", None)
    status = getattr(response, "status_code", None) if response is not None else None
    return status if isinstance(status, int) else None


def rate_limit_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds a 429 answer asks to wait (``RateLimit`` then ``Retry-After``); None if it does not say.

    Args:
        headers: the answer's headers.
    """
    from huggingface_hub.utils import parse_ratelimit_headers

    info = parse_ratelimit_headers(headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds) + 1.0
    retry = (headers.get("Retry-After") or "").strip()
    if retry.isdigit():
        return float(retry)
    return None


def retry_after(err: BaseException) -> float | None:
    """Seconds a 429 error's answer asks to wait (see :func:`rate_limit_wait`), or None."""
    response = getattr(err, "response", None)
    headers = getattr(response, "headers", None) if response is not None else None
    return rate_limit_wait(headers) if headers is not None else None


def _is_transport(err: BaseException | None) -> bool:
    import httpx2

    return isinstance(err, (httpx2.TransportError, ConnectionError, TimeoutError))


def is_connect_failure(err: BaseException | None) -> bool:
    """Whether ``err`` says no connection could be made at all (refused, no such host, no route,
    connect timeout), as opposed to a connection that broke or an answer that was an error."""
    import httpx2

    return isinstance(err, (httpx2.ConnectError, httpx2.ConnectTimeout, ConnectionRefusedError))


def transient_reason(err: BaseException, what: str) -> str | None:
    """Why ``err`` is worth another try (the wait's reason), or None when it is not.

    Args:
        err: what a read raised.
        what: the read, for the reason (``read alice/x@main``).

    Returns:
        ``"rate limited by the Hub (HTTP 429)"``, ``"the Hub answered HTTP 503 to '...'"``,
        ``"network error during '...' (ConnectError)"``, ``"the Hub's answer to '...' was not
        JSON"``, or None.
    """
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(err, HfHubHTTPError):
        status = http_status(err)
        if status == 429:
            return "rate limited by the Hub (HTTP 429)"
        if status is not None and (status == 408 or status >= 500):
            return f"the Hub answered HTTP {status} to '{what}'"
        return None
    if _is_transport(err):
        return f"network error during '{what}' ({type(err).__name__})"
    if isinstance(err, json.JSONDecodeError):
        return f"the Hub's answer to '{what}' was not JSON"
    return None


def too_long(seconds: float, max_wait_s: float, subject: str) -> NetworkError:
    """The error for a rate-limit wait longer than this run waits."""
    return NetworkError(
        f"{subject}: rate limited by the Hub for {seconds:.0f} s, longer than the {max_wait_s:.0f} s "
        "this run waits; try again later"
    )


def _default_sleep(seconds: float) -> None:
    time.sleep(seconds)  # looked up at call time, so a patched time.sleep is honoured


@dataclass(frozen=True)
class RetryPolicy:
    """How Hub reads are retried, and how publish rounds are repeated (see the module docstring).

    Attributes:
        max_attempts: the most tries of one read, and the most rounds of :meth:`rounds`.
        max_wait_s: the longest single rate-limit wait honoured; a longer one gives up.
        max_backoff_s: the longest backoff between tries.
        sleep: how to wait (default :func:`time.sleep`); it may raise to abandon the wait.
        on_wait: told of each wait before it happens.
        before_attempt: called before each try of a read (e.g. to take a read-throttle token).
    """

    max_attempts: int = DEFAULT_ATTEMPTS
    max_wait_s: float = DEFAULT_MAX_WAIT_S
    max_backoff_s: float = MAX_BACKOFF_S
    sleep: Callable[[float], object] | None = None
    on_wait: Callable[[Wait], None] | None = None
    before_attempt: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            (self.sleep or _default_sleep)(seconds)

    def call(
        self,
        fn: Callable[[], T],
        *,
        what: str,
        subject: str = "the Hub",
        final: Callable[[BaseException], bool] | None = None,
    ) -> T:
        """Run one read, retrying transient failures.

        Args:
            fn: the read.
            what: what it does, for the waits' reasons (``read alice/x@main``).
            subject: who is rate limited, for the give-up message (a repo id).
            final: says of a transient failure that it is not worth another try after all (the
                gateway's client: a refused connection before the Hub ever answered).

        Returns:
            What ``fn`` returned.

        Raises:
            NetworkError: the Hub asked for a wait longer than ``max_wait_s``.
            Exception: the last failure of ``fn``, unchanged (the gateway translates it).
        """
        import tenacity

        def wait(state: tenacity.RetryCallState) -> float:
            assert state.outcome is not None
            err = state.outcome.exception()
            assert err is not None
            seconds = backoff(state.attempt_number, self.max_backoff_s)
            if http_status(err) == 429:
                told = retry_after(err)
                seconds = told if told is not None else seconds
                if seconds > self.max_wait_s:
                    raise too_long(seconds, self.max_wait_s, subject) from err
            return seconds

        def announce(state: tenacity.RetryCallState) -> None:
            assert state.outcome is not None and state.next_action is not None
            err = state.outcome.exception()
            if self.on_wait is not None and err is not None:
                reason = transient_reason(err, what) or type(err).__name__
                self.on_wait(Wait(state.next_action.sleep, reason, http_status(err) == 429))

        def before(state: tenacity.RetryCallState) -> None:
            if self.before_attempt is not None:
                self.before_attempt()

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            retry=tenacity.retry_if_exception(
                lambda err: transient_reason(err, what) is not None and not (final is not None and final(err))
            ),
            wait=wait,
            sleep=self._sleep,
            before=before,
            before_sleep=announce,
            reraise=True,
        )
        return retrying(fn)

    def rounds(self, round_fn: Callable[[int], T]) -> T:
        """Run ``round_fn(1)``, ``round_fn(2)`` ... while it raises :class:`Again`, at most
        ``max_attempts`` rounds, waiting what each :class:`Again` asks between them.

        Returns:
            What the first round that did not raise returned.

        Raises:
            Again: the last round's, when the rounds ran out.
            Exception: whatever a round raised other than :class:`Again`, unchanged.
        """
        import tenacity

        def wait(state: tenacity.RetryCallState) -> float:
            assert state.outcome is not None
            err = state.outcome.exception()
            return err.wait.seconds if isinstance(err, Again) and err.wait is not None else 0.0

        def announce(state: tenacity.RetryCallState) -> None:
            assert state.outcome is not None
            err = state.outcome.exception()
            if self.on_wait is not None and isinstance(err, Again) and err.wait is not None:
                self.on_wait(err.wait)

        counter = itertools.count(1)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            retry=tenacity.retry_if_exception_type(Again),
            wait=wait,
            sleep=self._sleep,
            before_sleep=announce,
            reraise=True,
        )
        return retrying(lambda: round_fn(next(counter)))
