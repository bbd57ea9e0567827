"""Spacing Hub requests: a token bucket shared by every request of one kind, aware of 429 answers.

A bulk run talks to the Hub in two ways: *reads* (resolving each model's revision while planning)
and *writes* (one :func:`energy_badge.hub.commit_plan` per badge: a commit or a pull request). Each kind
goes through its own :class:`TokenBucket`. A bucket lets ``burst`` requests through at once, then
one every ``60 / per_minute`` seconds. When the Hub answers 429 anyway, :meth:`TokenBucket.hold`
empties the bucket and closes it for as long as the Hub said (``RateLimit: "api";r=0;t=<s>`` or
``Retry-After``, as :mod:`energy_badge.hub.retry` reads them), so the *other* requests waiting on
the same bucket wait too, not only the one that was refused.

Why the defaults are what they are
----------------------------------
The Hub's documented limits (https://huggingface.co/docs/hub/rate-limits, table of September 2025)
are counted over **5-minute fixed windows**, per account: the "API" bucket (every ``/api/...``
call: model info, preupload, commit, discussions) allows 1,000 requests per window to a free user
(500 per IP anonymously, 2,500 for PRO, 3,000 to 10,000 for organisations), the "Resolvers" bucket
(file downloads, ``/resolve/``) 5,000. Limits on individual *actions* (commits, pull requests, repo
creation) exist but are not documented as numbers; the Hub's own 429 message for commits reads
"You have exceeded the rate limit for repository commits (128 per hour)".

* **Writes: 2 per minute, burst 4** (:data:`DEFAULT_WRITES_PER_MINUTE`, :data:`DEFAULT_WRITE_BURST`).
  At most 4 + 2 x 60 = 124 writes in any hour, under the 128 commits per hour above even if that
  limit is per account rather than per repository (we could not tell which; we assume the stricter).
  Each write is one :func:`~energy_badge.hub.commit_plan`: about 6 to 8 API requests (model info,
  discussions list, closed-PR check, preupload, validate-yaml, commit) plus one card download from
  the Resolvers bucket, so 2 per minute is about 80 API requests per 5-minute window: under a tenth
  of a free account's 1,000, leaving room for the reads below and for the workers' downloads. It is
  also a pace at which a person can still follow (and revert) what a bot does.
* **Reads: 150 per minute, burst 20** (:data:`DEFAULT_READS_PER_MINUTE`, :data:`DEFAULT_READ_BURST`):
  750 per 5-minute window, three quarters of a free account's API budget, so that planning a long
  list does not starve the publishes and the workers' own ``model_info`` calls. Planning 10,000
  models this way takes about 67 minutes on huggingface.co (raise it for a PRO or organisation
  token); a listing query (``--search`` ...) needs one request per 1,000 models instead.

Where we were unsure: whether pull-request creation counts against the commit limit or has a
limit of its own (it goes through the same commit endpoint, so we assume it counts); whether the
128-per-hour limit is per repository or per account; and limits may change: a 429 is obeyed
whatever the bucket says.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = [
    "DEFAULT_READ_BURST",
    "DEFAULT_READS_PER_MINUTE",
    "DEFAULT_WRITE_BURST",
    "DEFAULT_WRITES_PER_MINUTE",
    "TokenBucket",
]

DEFAULT_WRITES_PER_MINUTE = 2.0
DEFAULT_WRITE_BURST = 4
DEFAULT_READS_PER_MINUTE = 150.0
DEFAULT_READ_BURST = 20
_EPSILON = 1e-9


class TokenBucket:
    """A thread-safe token bucket: ``burst`` tokens, refilled at ``per_minute`` tokens per minute.

    Args:
        per_minute: the sustained rate; 0 or less means unlimited (every acquire passes at once).
        burst: the most tokens held (at least 1); the bucket starts full.
        clock: monotonic seconds (tests pass a fake clock).
        sleep: how to wait (default :func:`time.sleep`); it may raise to abandon the wait.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.per_minute = float(per_minute)
        self.burst = int(burst)
        self._clock = clock
        self._sleep = sleep or time.sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()
        self._closed_until = 0.0

    @property
    def unlimited(self) -> bool:
        """True when the bucket never makes anyone wait (``per_minute`` <= 0) and is not held."""
        return self.per_minute <= 0

    def _refill(self, now: float) -> None:
        if self.per_minute > 0 and now > self._updated:
            self._tokens = min(
                float(self.burst), self._tokens + (now - self._updated) * self.per_minute / 60.0
            )
        self._updated = max(self._updated, now)

    def try_acquire(self) -> float:
        """Take a token if one is there.

        Returns:
            0.0 when a token was taken; else the seconds until one will be (nothing taken).
        """
        with self._lock:
            now = self._clock()
            if now < self._closed_until:
                return self._closed_until - now
            if self.per_minute <= 0:
                return 0.0
            self._refill(now)
            if self._tokens >= 1.0 - _EPSILON:  # a refill's rounding must not leave a wait of 1e-15 s
                self._tokens = max(0.0, self._tokens - 1.0)
                return 0.0
            return (1.0 - self._tokens) * 60.0 / self.per_minute

    def acquire(self, on_wait: Callable[[float], None] | None = None) -> float:
        """Wait for a token and take it.

        Args:
            on_wait: called with the number of seconds before each wait.

        Returns:
            The seconds waited in all.
        """
        waited = 0.0
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return waited
            if on_wait is not None:
                on_wait(wait)
            self._sleep(wait)
            waited += wait

    def hold(self, seconds: float) -> None:
        """The Hub said to wait ``seconds`` (a 429): no token for that long, and the bucket starts empty."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens = 0.0
            self._closed_until = max(self._closed_until, now + max(0.0, seconds))
            self._updated = max(self._updated, self._closed_until)
