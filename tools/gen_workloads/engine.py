"""The small template engine behind the workload generator.

A template is a plain English sentence with two kinds of markup:

* ``[a|b|c]`` picks one alternative at random (alternatives may be empty, and may nest);
* ``{slot}`` is filled from a context mapping. A ``str`` value is used as it is, a ``list`` or
  ``tuple`` value is sampled anew at every use, and a callable is called with the random
  generator. Values may themselves hold markup, which is rendered in turn.

After rendering, a sentence is tidied: doubled spaces go, ``a`` becomes ``an`` before a vowel
sound, and the first letter is capitalised. Everything is driven by one :class:`random.Random`,
using only methods whose output is stable across Python versions (``random``, ``choice``,
``randint``, ``shuffle``), so a seed always gives the same text.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_CHOICE = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ARTICLE = re.compile(r"\b([Aa])n? ([A-Za-z][\w-]*)")
_SPACES = re.compile(r" {2,}")
_SPACE_PUNCT = re.compile(r" ([,.;:?!])")

# Words that start with a vowel letter but a consonant sound, and the reverse.
_CONSONANT_SOUND = ("uni", "use", "usu", "uti", "one", "once", "eu", "ure")
_VOWEL_SOUND = ("hour", "honest", "honor", "heir")

NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)


def _needs_an(word: str) -> bool:
    low = word.lower()
    if low.startswith(_VOWEL_SOUND):
        return True
    if low.startswith(_CONSONANT_SOUND):
        return False
    return low[0] in "aeiou"


def _fix_article(match: re.Match[str]) -> str:
    article, word = match.group(1), match.group(2)
    return f"{article}n {word}" if _needs_an(word) else f"{article} {word}"


def tidy(text: str) -> str:
    """Clean up a rendered sentence.

    Args:
        text: the rendered sentence.

    Returns:
        The sentence with single spaces, ``a`` or ``an`` as the next word's sound needs, and a
        capital first letter.
    """
    text = _SPACES.sub(" ", text.strip())
    text = _SPACE_PUNCT.sub(r"\1", text)
    text = _ARTICLE.sub(_fix_article, text)
    for i, char in enumerate(text):
        if char.isalpha():
            return text[:i] + char.upper() + text[i + 1 :]
    return text


def render(rng: random.Random, template: str, ctx: Mapping[str, Any], _depth: int = 0) -> str:
    """Render one template against a context, without tidying.

    Args:
        rng: the random generator that makes every choice.
        template: text with ``[a|b]`` choices and ``{slot}`` references.
        ctx: the slot values.

    Returns:
        The rendered text.

    Raises:
        KeyError: a slot is missing from ``ctx``.
        RecursionError: slot values refer to each other in a loop.
    """
    if _depth > 8:
        raise RecursionError(f"template nesting too deep: {template!r}")
    text = template
    while True:
        match = _CHOICE.search(text)
        if match is None:
            break
        text = text[: match.start()] + rng.choice(match.group(1).split("|")) + text[match.end() :]

    def fill(match: re.Match[str]) -> str:
        value = ctx[match.group(1)]
        if callable(value):
            value = value(rng)
        elif isinstance(value, (list, tuple)):
            value = rng.choice(value)
        value = str(value)
        if "[" in value or "{" in value:
            value = render(rng, value, ctx, _depth + 1)
        return value

    return _SLOT.sub(fill, text)


def sentence(rng: random.Random, template: str, ctx: Mapping[str, Any]) -> str:
    """Render and tidy one template.

    Args:
        rng: the random generator.
        template: the template text.
        ctx: the slot values.

    Returns:
        A finished sentence.
    """
    return tidy(render(rng, template, ctx))


def sentences(rng: random.Random, templates: Sequence[str], ctx: Mapping[str, Any]) -> list[str]:
    """Render a list of templates in order.

    Args:
        rng: the random generator.
        templates: the templates.
        ctx: the slot values.

    Returns:
        One finished sentence per template.
    """
    return [sentence(rng, t, ctx) for t in templates]


def pick(rng: random.Random, items: Sequence[Any], k: int) -> list[Any]:
    """Pick ``k`` distinct items in random order (a stable replacement for ``random.sample``).

    Args:
        rng: the random generator.
        items: the population.
        k: how many to pick; at most ``len(items)``.

    Returns:
        A new list of ``k`` items.
    """
    pool = list(items)
    rng.shuffle(pool)
    return pool[:k]


def shuffled(rng: random.Random, items: Sequence[Any]) -> list[Any]:
    """Return a shuffled copy of ``items``.

    Args:
        rng: the random generator.
        items: the items.

    Returns:
        A new list.
    """
    pool = list(items)
    rng.shuffle(pool)
    return pool


def number_word(n: int) -> str:
    """Spell small numbers as words, larger ones as digits.

    Args:
        n: a non-negative integer.

    Returns:
        ``"seven"`` for 7, ``"42"`` for 42.
    """
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def thousands(n: int) -> str:
    """Format an integer with thousands separators.

    Args:
        n: the integer.

    Returns:
        ``"12,400"`` for 12400.
    """
    return f"{n:,}"


def lognormal_target(rng: random.Random, mean: float, sigma: float, low: int, high: int) -> int:
    """Draw a length target from a lognormal distribution with the given mean, clipped.

    The underlying normal draw uses :meth:`random.Random.normalvariate`, which is stable
    across Python versions.

    Args:
        rng: the random generator.
        mean: the mean of the (unclipped) distribution.
        sigma: the standard deviation of the log.
        low: the smallest value returned.
        high: the largest value returned.

    Returns:
        An integer target in ``[low, high]``.
    """
    mu = math.log(mean) - sigma * sigma / 2.0
    value = math.exp(rng.normalvariate(mu, sigma))
    return int(min(high, max(low, round(value))))


def best_prefix(counts: Sequence[int], target: int, fixed: int = 0, minimum: int = 1) -> int:
    """How many items of ``counts`` to keep so the total lands closest to ``target``.

    Args:
        counts: token counts of the candidate items, in order.
        target: the wanted total.
        fixed: tokens that are always there (a header, a closing line).
        minimum: the fewest items to keep.

    Returns:
        The number of leading items to keep, between ``minimum`` and ``len(counts)``.
    """
    best_k = min(minimum, len(counts))
    total = fixed + sum(counts[:best_k])
    best_gap = abs(total - target)
    for k in range(best_k, len(counts)):
        total += counts[k]
        gap = abs(total - target)
        if gap < best_gap:
            best_k, best_gap = k + 1, gap
        if total > target:
            break
    return best_k


Factory = Callable[[random.Random], str]
