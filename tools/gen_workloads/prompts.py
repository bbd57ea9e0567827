"""Prompts for the text-generation workload: an instruction around a story, article, customer
message, set of notes or batch of reviews, as people write them to chat assistants."""

from __future__ import annotations

import random

from . import facts, world
from .draft import Draft
from .news import article_draft
from .reviews import review_draft
from .stories import story_draft


def _story(rng: random.Random) -> Draft:
    draft = story_draft(rng)
    intro = rng.choice(
        (
            "Continue the story below in the same style.",
            "Read the beginning of this story and write what happens next.",
            "Here is the opening of a short story. Continue it for a few more paragraphs.",
            "Write the next part of the following story, keeping the same characters.",
        )
    )
    draft.prefix = intro + "\n\n"
    if rng.random() < 0.4:
        draft.suffix = "\n\n" + rng.choice(("What happens next?", "How does the story end?"))
    return draft


def _article(rng: random.Random) -> Draft:
    draft = article_draft(rng)
    intro = rng.choice(
        (
            "Here is a news article from a local paper.",
            "Read the following article.",
            "The article below appeared in a regional newspaper this week.",
        )
    )
    draft.prefix = intro + "\n\n"
    draft.suffix = "\n\n" + (
        rng.choice(
            (
                "Write a headline for this article.",
                "Summarize the article in one sentence.",
                "List the three most important facts in the article.",
                "Write a short comment that a reader might post below this article.",
                "Which people are quoted in the article, and what do they say?",
                "Explain the main point of the article to a ten-year-old.",
            )
        )
    )
    return draft


def _email(rng: random.Random) -> Draft:
    review = review_draft(rng)
    sender = world.Cast(rng).person().full
    intro = rng.choice(
        (
            "The following message was sent to our customer service team.",
            "You work in customer service. A customer has sent this message.",
            "Please read this email from a customer.",
        )
    )
    greeting = rng.choice(("Hello,", "Dear team,", "Hi there,", "Good morning,"))
    sign = rng.choice(("Kind regards,", "Best wishes,", "Thanks,", "Regards,"))
    task = rng.choice(
        (
            "Write a polite reply that answers the customer's points.",
            "Draft a short, friendly reply to this customer.",
            "Write a reply that apologizes where needed and offers a next step.",
        )
    )
    review.prefix = f"{intro}\n\n{greeting}\n"
    review.suffix = f"\n\n{sign}\n{sender}\n\n{task}"
    return review


def _notes(rng: random.Random) -> Draft:
    first = facts.make_entity(rng, facts.TOWN)
    others = [facts.make_entity(rng, kind) for kind in (facts.LANDMARK, facts.FESTIVAL)]
    if rng.random() < 0.5:
        others.reverse()
    for other in others:
        other.ctx["name"] = other.ctx["name"].replace(other.ctx["town"], first.ctx["name"])
        other.ctx["town"] = first.ctx["name"]
    body: list[str] = []
    for entity in (first, *others):
        p = facts.passage(rng, entity)
        body.append(p.intro)
        body.extend(text for _, text in p.sentences)
    intro = rng.choice(
        (
            "Use the notes below to write a short entry for a travel guide.",
            "Here are some notes about a town. Turn them into a friendly paragraph for visitors.",
            "Read these notes and write a short welcome message for new residents.",
        )
    )
    return Draft(
        head=[intro],
        body=body,
        tail=[
            rng.choice(("Keep it under two hundred words.", "Use a warm, simple tone.", "Do not add facts."))
        ],
        head_separator="\n\n",
        tail_separator="\n\n",
    )


def _reviews(rng: random.Random) -> Draft:
    items = []
    for i in range(10):
        review = review_draft(rng)
        text = review.assemble(rng.randint(2, 4))
        items.append(f"Review {i + 1}: {text}")
    return Draft(
        head=[
            rng.choice(("Below are several customer reviews.", "Here are some reviews left by customers."))
        ],
        body=items,
        paragraph_sizes=(1,),
        tail=[
            rng.choice(
                (
                    "For each review, say whether the customer was happy or not.",
                    "Which of these reviews is the most negative, and why?",
                    "Summarize what the customers liked and disliked.",
                )
            )
        ],
        head_separator="\n\n",
        tail_separator="\n\n",
    )


KINDS = ((_story, 0.3), (_article, 0.3), (_email, 0.15), (_notes, 0.15), (_reviews, 0.1))


def prompt_draft(rng: random.Random) -> Draft:
    """Write one prompt as a :class:`Draft` whose body can be cut to length.

    Args:
        rng: the random generator.

    Returns:
        The draft: instruction and material.
    """
    roll = rng.random()
    total = 0.0
    for make, weight in KINDS:
        total += weight
        if roll < total:
            return make(rng)
    return KINDS[-1][0](rng)
