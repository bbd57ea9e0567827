"""Sentence pairs for the sentence-similarity workload.

Pairs range from close paraphrases (one everyday event told two ways), through near misses
(the same kind of event with a different person, place or day; the same fact with a different
value) to unrelated sentences, as in real similarity data.
"""

from __future__ import annotations

import random
import re
from typing import Any

from . import facts, world
from .engine import pick, sentence

# Each frame is one everyday event, told in two or three ways that mean the same thing.
FRAMES: tuple[tuple[str, ...], ...] = (
    (
        "{p} walked {poss} dog along the river on {weekday} morning.",
        "On {weekday} morning, {p} took {poss} dog for a walk by the river.",
    ),
    (
        "The train to {town} was delayed by {n} minutes.",
        "Passengers for {town} waited an extra {n} minutes for their train.",
        "The {town} train ran {n} minutes late.",
    ),
    (
        "{p} bought fresh bread at the market on {street}.",
        "At the market on {street}, {p} picked up a loaf of fresh bread.",
    ),
    (
        "It rained heavily in {town} for most of {weekday}.",
        "{town} had a very wet {weekday}.",
        "Heavy rain fell on {town} for most of the day on {weekday}.",
    ),
    (
        "The library on {street} will close early on {weekday}.",
        "On {weekday}, the library on {street} is closing early.",
    ),
    (
        "{p} fixed the leaking tap in {poss} kitchen.",
        "The kitchen tap that was leaking has been repaired by {p}.",
    ),
    (
        "A new bakery has opened next to the station in {town}.",
        "{town} has a new bakery beside its station.",
    ),
    (
        "The children planted tomatoes in the school garden.",
        "Tomatoes were planted in the school garden by the pupils.",
    ),
    (
        "{p} is learning to play the violin.",
        "{p} has started violin lessons.",
        "{p} takes violin lessons now.",
    ),
    (
        "The museum in {town} is free to visit on Sundays.",
        "On Sundays, entry to the {town} museum costs nothing.",
    ),
    (
        "{p} missed the last bus home and had to walk.",
        "After missing the final bus, {p} walked home.",
    ),
    (
        "Two hundred runners took part in the race along the coast.",
        "The coastal race had two hundred runners.",
    ),
    (
        "The council repaired the potholes on {street}.",
        "Potholes on {street} have been fixed by the council.",
    ),
    ("{p} painted the fence in the back garden.", "The back garden fence was painted by {p}."),
    (
        "The shop on the corner sells fresh fish every Friday.",
        "Every Friday, the corner shop has fresh fish for sale.",
    ),
    (
        "Firefighters rescued a cat from a tall tree in {town}.",
        "A cat stuck up a tree in {town} was brought down by firefighters.",
    ),
    ("{p} cooked soup for the whole family.", "The whole family ate soup that {p} had made."),
    (
        "The ferry to the island was cancelled because of high winds.",
        "High winds forced the cancellation of the island ferry.",
    ),
    ("{p} lost {poss} keys on the way to work.", "On the way to work, {p} dropped {poss} keys somewhere."),
    (
        "Snow closed the mountain road for two days.",
        "The road over the mountain was shut by snow for two days.",
    ),
    (
        "The orchestra will play in the town hall on {weekday}.",
        "On {weekday}, the orchestra gives a concert at the town hall.",
    ),
    (
        "{p} finished reading a long novel over the weekend.",
        "Over the weekend, {p} read a long novel to the end.",
    ),
    (
        "The price of coffee at the station cafe has gone up.",
        "Coffee now costs more at the cafe in the station.",
    ),
    (
        "A heron was standing in the shallow water by the bridge.",
        "By the bridge, a heron stood in the shallows.",
    ),
    ("The new playground in {town} opens next month.", "Next month, {town} gets a new playground."),
    (
        "{p} won first prize for {poss} apple pie at the fair.",
        "The best apple pie at the fair was baked by {p}.",
    ),
    (
        "The football match was called off because the pitch was flooded.",
        "A flooded pitch meant the football match could not go ahead.",
    ),
    ("{p} moved to {town} to start a new job.", "A new job brought {p} to {town}."),
    (
        "The bridge on {street} is closed for repairs until {month}.",
        "Repairs will keep the {street} bridge closed until {month}.",
    ),
    (
        "{p} called {poss} grandmother on {weekday} evening.",
        "On {weekday} evening, {p} phoned {poss} grandmother.",
    ),
    (
        "A thick fog covered the harbor early in the morning.",
        "Early in the morning, the harbor was hidden by thick fog.",
    ),
    (
        "The school choir sang at the hospital last week.",
        "Last week, the school choir performed at the hospital.",
    ),
    (
        "{p} planted three apple trees in the orchard.",
        "Three new apple trees were planted in the orchard by {p}.",
    ),
    (
        "The bakery sold out of bread before noon.",
        "By midday, there was no bread left at the bakery.",
    ),
    (
        "{p} forgot {poss} umbrella and got soaked on the way home.",
        "Without an umbrella, {p} got wet through walking home.",
    ),
    (
        "The power went out across {town} for two hours.",
        "{town} was without electricity for two hours.",
    ),
)


def _frame_ctx(rng: random.Random) -> dict[str, Any]:
    person = world.Cast(rng).person()
    return {
        "p": person.first,
        "poss": person.poss,
        "town": rng.choice(world.TOWNS),
        "street": rng.choice(world.STREETS),
        "weekday": rng.choice(world.WEEKDAYS),
        "month": rng.choice(world.MONTHS),
        "n": str(rng.choice((5, 10, 15, 20, 25, 30, 40, 45))),
    }


def candidate_pairs(rng: random.Random) -> list[tuple[str, str]]:
    """Make a few candidate sentence pairs of one randomly chosen type.

    The caller keeps the candidate whose length best fits its target, so the type mix stays
    the one drawn here.

    Args:
        rng: the random generator.

    Returns:
        Candidate pairs, all of the same type (paraphrase, near miss, related fact, unrelated);
        pairs of two identical sentences are left out, so the list may be empty.
    """
    roll = rng.random()
    out: list[tuple[str, str]] = []
    if roll < 0.4:
        # Paraphrase: one event, two tellings.
        for _ in range(3):
            frame = rng.choice(FRAMES)
            ctx = _frame_ctx(rng)
            a, b = pick(rng, frame, 2)
            out.append((sentence(rng, a, ctx), sentence(rng, b, ctx)))
    elif roll < 0.55:
        # Near miss: same kind of event, different details.
        for _ in range(3):
            frame = rng.choice(FRAMES)
            t = rng.choice(frame)
            out.append((sentence(rng, t, _frame_ctx(rng)), sentence(rng, rng.choice(frame), _frame_ctx(rng))))
    elif roll < 0.8:
        # Facts: the same fact told two ways, or the same attribute with another value.
        for _ in range(3):
            entity = facts.make_entity(rng)
            # A firm's products follow from its name ("... Foods"), so they never get another value.
            attr = rng.choice([a for a in entity.kind.attrs if a.key != "products"])
            first = facts.statement(rng, entity, attr.key, _standalone(rng, attr, entity))
            if rng.random() < 0.5:
                other = facts.make_entity(rng, entity.kind)
                other.ctx.update(entity.ctx)
                second = facts.statement(rng, other, attr.key, _standalone(rng, attr, other))
            else:
                second = facts.statement(rng, entity, attr.key, _standalone(rng, attr, entity))
            out.append((first, second))
    else:
        # Unrelated: two different events.
        for _ in range(3):
            f1, f2 = pick(rng, FRAMES, 2)
            out.append(
                (
                    sentence(rng, rng.choice(f1), _frame_ctx(rng)),
                    sentence(rng, rng.choice(f2), _frame_ctx(rng)),
                )
            )
    return [(a, b) for a, b in out if a != b]


# How to make a statement name its subject: the first rule that applies is used.
_NAMING = (
    ("has been chief executive", "has been chief executive of {name}"),
    ("The company was", "{name} was"),
    ("The firm has", "{name} has"),
    ("its income", "the income of {name}"),
    ("The current mayor is", "The current mayor of {name} is"),
    ("the middle of the town", "the middle of {name}"),
    ("in the town", "in {name}"),
    ("The town ", "{name} "),
    ("the town has", "{name} has"),
    ("the {short}", "{name}"),
    ("the main square", "the main square of {name}"),
    ("at a market in the square", "at a market in {name}"),
    ("The founder of the company", "The founder of {name}"),
    ("The company is", "{name} is"),
    ("The first festival took place", "{name} first took place"),
    ("has run the festival", "has run {name}"),
    ("The event is", "{name} is"),
    ("Most of the events take", "Most of the events of {name} take"),
    ("The main stage is", "The main stage of {name} is"),
    ("The main attraction is", "The main attraction of {name} is"),
    ("the highlight is", "the highlight of {name} is"),
    ("The architect was", "The architect of {name} was"),
    ("The walls are", "The walls of {name} are"),
    ("The {short} is", "{name} is"),
    ("Adults grow", "Adults of {name} grow"),
    ("A fully grown adult measures", "A fully grown adult of {name} measures"),
    ("Its ", "{name}'s "),
    ("{poss_cap} ", "{name}'s "),
    ("{subj}", "{name}"),
)
_IT = re.compile(r"\b[Ii]t\b")


def _standalone(rng: random.Random, attr: facts.Attr, entity: facts.Entity) -> str:
    """A statement template that names its subject rather than calling it "it" or "she"."""
    named = [t for t in attr.statements if "{name}" in t]
    if named:
        return rng.choice(named)
    template = rng.choice(attr.statements)
    for old, new in _NAMING:
        if old in template:
            return template.replace(old, new, 1)
    return _IT.sub("{name}", template, count=1)
