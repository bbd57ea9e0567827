"""Platform-independent random bits: a counter-based SplitMix64 stream over numpy ``uint64``.

The media workloads must decode to the same pixels and samples on every platform and every
numpy version, so nothing here uses a library distribution (``Generator.normal`` and friends may
change their algorithms) or a transcendental function (``sin``, ``exp``, ``log`` differ in their
last bits between libm and SIMD builds). Everything is integer arithmetic modulo 2**64 and, for
floats, the IEEE basic operations (+, -, *, /), which are correctly rounded everywhere.

A :class:`Bits` stream is keyed by a string (``"image/<seed>"``) and hands out blocks of raw
64-bit words: word ``i`` of the stream is ``splitmix64(base + i * GOLDEN)`` (Steele, Lea and
Flood's SplitMix64 finaliser), ``base`` being the first 8 bytes of ``sha256(key)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Bits", "splitmix64"]

T = TypeVar("T")

GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_MASK = (1 << 64) - 1
_TWO_53 = 1.0 / 9007199254740992.0


def splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The SplitMix64 finaliser of each word (wrapping uint64 arithmetic).

    Args:
        x: a 1-D ``uint64`` array.

    Returns:
        The mixed words, same shape.
    """
    import numpy as np

    z = x.copy()
    z ^= z >> np.uint64(30)
    z *= np.uint64(_M1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(_M2)
    z ^= z >> np.uint64(31)
    return z


class Bits:
    """A keyed stream of raw 64-bit words and the few shapes the generators need.

    Args:
        key: names the stream; the same key gives the same words on every platform.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self._base = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "little")
        self._next = 0

    def words(self, n: int) -> NDArray[np.uint64]:
        """The next ``n`` raw words of the stream.

        Args:
            n: how many (0 or more).

        Returns:
            A ``uint64`` array of ``n`` words.
        """
        import numpy as np

        start = (self._base + (self._next + 1) * GOLDEN) % (1 << 64)
        self._next += n
        steps = np.arange(n, dtype=np.uint64)
        steps *= np.uint64(GOLDEN)
        steps += np.uint64(start)
        return splitmix64(steps)

    def uniform(self, n: int) -> NDArray[np.float64]:
        """``n`` floats in [0, 1): the top 53 bits of each word times 2**-53 (exact).

        Args:
            n: how many.

        Returns:
            A ``float64`` array.
        """
        import numpy as np

        return (self.words(n) >> np.uint64(11)).astype(np.float64) * _TWO_53

    def integers(self, n: int, low: int, high: int) -> NDArray[np.int64]:
        """``n`` integers in [low, high) (word modulo the span; the bias is below 2**-40).

        Args:
            n: how many.
            low: the smallest value.
            high: one past the largest value (``high - low`` at most 2**24).

        Returns:
            An ``int64`` array.
        """
        import numpy as np

        span = high - low
        if not 0 < span <= 1 << 24:
            raise ValueError(f"bad span [{low}, {high})")
        return (self.words(n) % np.uint64(span)).astype(np.int64) + low

    def small(self, n: int) -> NDArray[np.int32]:
        """``n`` integers in -3..3 (a triangular spread), eight per word: cheap per-pixel grain.

        Args:
            n: how many.

        Returns:
            An ``int32`` array.
        """
        import numpy as np

        raw = self.words((n + 7) // 8).astype("<u8").view(np.uint8)[:n].astype(np.int32)
        return (raw & 3) + ((raw >> 2) & 3) - 3

    def signed(self, n: int, bits: int) -> NDArray[np.int64]:
        """``n`` integers uniform in [-2**(bits-1), 2**(bits-1)).

        Args:
            n: how many.
            bits: their width, 1 to 32.

        Returns:
            An ``int64`` array.
        """
        import numpy as np

        return (self.words(n) >> np.uint64(64 - bits)).astype(np.int64) - (1 << (bits - 1))

    def word(self) -> int:
        """The next raw word, computed with Python integers (the same value :meth:`words` gives)."""
        z = (self._base + (self._next + 1) * GOLDEN) & _MASK
        self._next += 1
        z = ((z ^ (z >> 30)) * _M1) & _MASK
        z = ((z ^ (z >> 27)) * _M2) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """One float in [0, 1)."""
        return (self.word() >> 11) * _TWO_53

    def randint(self, low: int, high: int) -> int:
        """One integer in [low, high] (both ends included, like :meth:`random.Random.randint`)."""
        return low + self.word() % (high - low + 1)

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``, uniformly."""
        return options[self.randint(0, len(options) - 1)]
