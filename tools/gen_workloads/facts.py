"""Short factual passages about invented towns, people, firms, creatures, buildings and events.

Each entity has attributes; each attribute has statement templates (which state its value) and
question templates (which ask for it). Passages built from the statements serve as contexts
for extractive question answering, and single statements serve as sentence pairs for sentence
similarity. Descriptive sentences that state no asked-for fact pad passages to length.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from . import world
from .engine import number_word, pick, render, sentence, shuffled, thousands


@dataclass(frozen=True)
class Attr:
    """One attribute of an entity kind: how to state it and how to ask for it."""

    key: str
    statements: tuple[str, ...]
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Kind:
    """An entity kind: its opening sentences, attributes and descriptive filler."""

    name: str
    intro: tuple[str, ...]
    attrs: tuple[Attr, ...]
    filler: tuple[str, ...]


@dataclass
class Entity:
    """One entity: its kind, its slot values and its attribute values (already rendered)."""

    kind: Kind
    ctx: dict[str, Any]
    values: dict[str, str]


TOWN = Kind(
    "town",
    intro=(
        "{name} is a [small|busy|quiet] [market town|town] in {region}.",
        "{name} lies in {region}, [close to the coast|among low hills|at the edge of a wide valley].",
    ),
    attrs=(
        Attr(
            "founded",
            (
                "{name} was founded in {value} [as a small market town|by a group of farming families|around "
                "a ford across the {river}].",
                "The first houses in {name} were built in {value}, according to the town records.",
            ),
            (
                "In what year was {name} founded?",
                "When was the town of {name} founded?",
                "In which year were the first houses in {name} built?",
            ),
        ),
        Attr(
            "population",
            (
                "Today about {value} people live in {name}[, according to the last census|].",
                "The town has a population of roughly {value}.",
            ),
            (
                "How many people live in {name}?",
                "What is the population of {name}?",
                "Roughly how many people live in the town of {name} today?",
            ),
        ),
        Attr(
            "river",
            (
                "The River {value} runs through the middle of the town[, past the old mill|].",
                "{name} grew up on both banks of the River {value}.",
            ),
            (
                "Which river runs through {name}?",
                "What is the name of the river that flows through {name}?",
            ),
        ),
        Attr(
            "known_for",
            ("The town is best known for {value}.", "Visitors come to {name} mainly for {value}."),
            ("What is {name} best known for?", "What is the town of {name} famous for?"),
        ),
        Attr(
            "mayor",
            (
                "The current mayor is {value}, [a former teacher|a retired engineer|who was elected in "
                "{mayor_year}].",
                "{value} has been mayor of {name} since {mayor_year}.",
            ),
            ("Who is the mayor of {name}?", "Who is the current mayor of the town of {name}?"),
        ),
        Attr(
            "market_day",
            (
                "A market is held in the main square every {value}.",
                "Every {value}, farmers sell their produce at a market in the square.",
            ),
            (
                "On which day is the market held in {name}?",
                "What day of the week does {name} hold its market?",
            ),
        ),
        Attr(
            "railway",
            (
                "The railway reached {name} in {value}, and the town grew quickly after that.",
                "Trains have stopped at {name} since {value}.",
            ),
            ("When did the railway reach {name}?", "In what year did the railway arrive in {name}?"),
        ),
        Attr(
            "twin",
            (
                "{name} is twinned with {value}, a town [on the far side of the sea|in the south].",
                "Since {twin_year}, the town has been twinned with {value}.",
            ),
            ("Which town is {name} twinned with?", "What is the twin town of {name}?"),
        ),
        Attr(
            "employer",
            (
                "The largest employer in the town is {value}, known for {products}.",
                "Many people in {name} work for {value}.",
            ),
            ("What is the largest employer in {name}?", "Which company employs the most people in {name}?"),
        ),
    ),
    filler=(
        "Narrow [lanes|streets|alleys] lead down from the [square|church] to the [river|harbor|old quay].",
        "In [summer|spring|the holidays] the riverside paths are [busy|crowded|full] with [walkers and "
        "cyclists|families and dog walkers|anglers and walkers].",
        "Many of the older [houses|shops|cottages] are built of [grey|honey-colored|pale] [stone|brick].",
        "The [high street|main street] still has [a butcher, a baker and a hardware shop|two bookshops and "
        "a cinema|a fishmonger and several cafes].",
        "A [small|free] museum in the old [school|courthouse|station] tells the story of the town[ and its "
        "people| from the earliest times|].",
        "On clear days the [hills|mountains|islands] to the [north|west|south] can be seen from the [church "
        "tower|top of the town|castle walls].",
        "The town has [two|three|four] primary schools and [a secondary school|a small college|a large "
        "secondary school].",
    ),
)

PERSON = Kind(
    "person",
    intro=(
        "{name} was a [well known|much admired|respected] {profession} from {region}.",
        "{name} is remembered as one of the best {profession}s of {poss} generation.",
    ),
    attrs=(
        Attr(
            "born",
            ("{name} was born in {value}[ and grew up by the sea| and grew up on a farm|].",),
            ("In what year was {name} born?", "When was {name} born?"),
        ),
        Attr(
            "birthplace",
            (
                "{subj} grew up in {value}, where {poss} [father|mother] [ran a bakery|worked on the railway|"
                "kept bees].",
                "{poss_cap} childhood was spent in {value}.",
            ),
            ("Where did {name} grow up?", "In which town did {name} spend {poss} childhood?"),
        ),
        Attr(
            "teacher",
            (
                "As a young {profession}, {subj} studied under {value}.",
                "{poss_cap} first teacher was {value}, who ran a workshop in {town2}.",
            ),
            ("Who did {name} study under?", "Who was the first teacher of {name}?"),
        ),
        Attr(
            "work",
            ("{subj} is best remembered for {value}.", "{poss_cap} best known work was {value}."),
            ("What is {name} best remembered for?", "What was the best known work of {name}?"),
        ),
        Attr(
            "award",
            (
                "In {award_year}, {subj} won the {value} for {poss} work.",
                "{subj} received the {value} in {award_year}.",
            ),
            ("Which award did {name} win in {award_year}?", "What prize did {name} receive in {award_year}?"),
        ),
        Attr(
            "moved",
            (
                "In later life {subj} moved to {value}, where {subj} lived until {poss} death.",
                "{subj} spent {poss} last years in {value}.",
            ),
            ("Where did {name} move in later life?", "Where did {name} spend {poss} last years?"),
        ),
        Attr(
            "died",
            ("{subj} died in {value} at the age of {age}.",),
            ("In what year did {name} die?", "When did {name} die?"),
        ),
    ),
    filler=(
        "{subj} [rarely|seldom] gave interviews and [disliked|avoided] large parties.",
        "Friends described {obj} as [patient|generous|stubborn] and [funny|very private].",
        "{subj} kept detailed notebooks, many of which [survive|are still kept] in the town library.",
        "{poss_cap} working day usually began before six in the morning.",
        "[Several|Two] of {poss} students later became well known in their own right.",
        "{subj} never owned a car and walked almost everywhere.",
    ),
)

COMPANY = Kind(
    "company",
    intro=(
        "{name} is {desc} based in {region}.",
        "{name} is one of the largest employers in {region}.",
    ),
    attrs=(
        Attr(
            "founded",
            ("{name} was founded in {value}.", "The company was set up in {value}[ in a small workshop|]."),
            ("When was {name} founded?", "In what year was the company {name} set up?"),
        ),
        Attr(
            "founder",
            (
                "It was started by {value}, a former {profession}.",
                "The founder of the company was {value}[, who had worked for a rival firm|].",
            ),
            ("Who founded {name}?", "Who started the company {name}?"),
        ),
        Attr(
            "hq",
            (
                "Its head office is in {value}[, close to the station|].",
                "The company is run from offices in {value}.",
            ),
            ("Where is the head office of {name}?", "In which town is {name} based?"),
        ),
        Attr(
            "staff",
            ("{name} employs about {value} people.", "The firm has a workforce of around {value}."),
            ("How many people does {name} employ?", "About how many people work for {name}?"),
        ),
        Attr(
            "products",
            ("It is best known for {value}.", "Most of its income comes from {value}."),
            ("What is {name} best known for?", "Where does most of the income of {name} come from?"),
        ),
        Attr(
            "ceo",
            ("{value} has been chief executive since {ceo_year}.", "The company is led by {value}."),
            ("Who is the chief executive of {name}?", "Who leads the company {name}?"),
        ),
    ),
    filler=(
        "The company [publishes|prints] a short report on its [work|environmental record] every year.",
        "[Most|Many] of its staff live within ten miles of the main site.",
        "It [sponsors|supports] a youth football team and a summer music festival.",
        "Visitors can book a tour of the main site on the first Saturday of each month.",
        "The company has won several awards for the way it treats its workers.",
        "Its products are sold [in shops|in stores|online] across [the country|the region|several "
        "countries].",
    ),
)

CREATURE = Kind(
    "creature",
    intro=(
        "{name} is a small {sort} found only in {region}.",
        "{name} is a [rare|shy] {sort} [that few people have seen|that lives only in {region}].",
    ),
    attrs=(
        Attr(
            "habitat",
            ("It lives in {value}.", "Its usual home is {value}."),
            ("Where does {name} live?", "What kind of place is home to {name}?"),
        ),
        Attr(
            "size",
            ("Adults grow to about {value} long.", "A fully grown adult measures about {value}."),
            ("How long do adults of {name} grow?", "How large is a fully grown {short}?"),
        ),
        Attr(
            "diet",
            ("It feeds mainly on {value}.", "Its diet consists mostly of {value}."),
            ("What does {name} mainly eat?", "What is the main food of {name}?"),
        ),
        Attr(
            "describer",
            (
                "It was first described by {value}, a naturalist from {town2}.",
                "The naturalist {value} was the first to describe it.",
            ),
            ("Who first described {name}?", "Which naturalist was the first to describe the {short}?"),
        ),
        Attr(
            "recorded",
            (
                "Scientists first recorded it in {value}.",
                "The first written record of it dates from {value}.",
            ),
            ("In what year was {name} first recorded?", "When was the {short} first recorded by scientists?"),
        ),
        Attr(
            "color",
            ("Its [back|skin|coat] is {value}, which helps it hide.", "It is {value}."),
            ("What color is {name}?", "What color is the {short}?"),
        ),
        Attr(
            "lifespan",
            ("In the wild it can live for up to {value} years.", "It may live as long as {value} years."),
            ("How long can {name} live in the wild?", "For how many years can the {short} live?"),
        ),
        Attr(
            "breeds",
            ("It breeds in {value}, when the weather is warmest.", "Its young are born in {value}."),
            ("In which month does {name} breed?", "When are the young of the {short} born?"),
        ),
    ),
    filler=(
        "It is most active [at dawn and dusk|after heavy rain|on warm nights].",
        "Because it is so [shy|well hidden], counting it is difficult.",
        "Volunteers [count|survey] it every spring along marked paths.",
        "Its numbers fell sharply in the last century but are now [stable|slowly rising].",
        "It is protected by law, and it is an offense to disturb it.",
        "Local children learn about it [in school|on nature walks|at the visitor center].",
    ),
)

LANDMARK = Kind(
    "landmark",
    intro=(
        "{name} is one of the best known buildings in {town}.",
        "{name} stands [near the center of|on the edge of|above] {town}.",
    ),
    attrs=(
        Attr(
            "built",
            ("{name} was built in {value}.", "Work on the {short} was finished in {value}."),
            ("When was {name} built?", "In what year was work on {name} finished?"),
        ),
        Attr(
            "architect",
            ("It was designed by {value}, an architect from {town2}.", "The architect was {value}."),
            ("Who designed {name}?", "Who was the architect of {name}?"),
        ),
        Attr(
            "height",
            ("The {short} is {value} tall.", "It rises {value} above the street."),
            ("How tall is {name}?", "How high does {name} rise above the street?"),
        ),
        Attr(
            "material",
            ("It is built mainly of {value}.", "The walls are made of {value}."),
            ("What is {name} built of?", "What material are the walls of {name} made of?"),
        ),
        Attr(
            "purpose",
            ("It was first used as {value}.", "For many years it served as {value}."),
            ("What was {name} first used as?", "What did {name} originally serve as?"),
        ),
        Attr(
            "restored",
            ("It was restored in {value} after [years of neglect|a fire damaged the roof].",),
            ("When was {name} restored?", "In what year was {name} restored?"),
        ),
        Attr(
            "visitors",
            ("About {value} people visit it every year.", "It now welcomes around {value} visitors a year."),
            ("How many people visit {name} each year?", "About how many visitors does {name} get a year?"),
        ),
    ),
    filler=(
        "Guided tours run on [weekends|Saturdays|Sunday afternoons] from [spring to autumn|Easter until "
        "October].",
        "A [narrow|steep|winding] staircase leads to a small room [at the top|under the roof][ with a view "
        "over the town|].",
        "[Pigeons|Swallows|Jackdaws] nest under the [roof|eaves], [to the annoyance of the caretaker|and "
        "nobody has the heart to move them].",
        "The building appears on [many|most|countless] [postcards|photographs] of the town.",
        "Entry is free for [children|children under twelve] and [local residents|students].",
        "A small cafe [has opened|now operates] on the ground floor.",
    ),
)

FESTIVAL = Kind(
    "festival",
    intro=(
        "{name} is an [annual|yearly] event in the town of {town}.",
        "{name} is one of the [biggest|best loved] events in {region}.",
    ),
    attrs=(
        Attr(
            "month",
            ("{name} takes place every {value}.", "It is held each year in {value}."),
            ("In which month is {name} held?", "When does {name} take place each year?"),
        ),
        Attr(
            "first",
            ("It was first held in {value}.", "The first festival took place in {value}."),
            ("When was {name} first held?", "In what year did {name} first take place?"),
        ),
        Attr(
            "visitors",
            ("It now attracts about {value} visitors.", "Around {value} people come to it each year."),
            ("How many visitors does {name} attract?", "About how many people come to {name} each year?"),
        ),
        Attr(
            "organizer",
            (
                "The event is organized by {value}, [a retired teacher|who took over in {org_year}].",
                "{value} has run the festival since {org_year}.",
            ),
            ("Who organizes {name}?", "Who has run {name} since {org_year}?"),
        ),
        Attr(
            "place",
            ("Most of the events take place in {value}.", "The main stage is set up in {value}."),
            ("Where do most of the events of {name} take place?", "Where is the main stage of {name}?"),
        ),
        Attr(
            "attraction",
            ("The main attraction is {value}.", "For many visitors the highlight is {value}."),
            ("What is the main attraction of {name}?", "What is the highlight of {name} for many visitors?"),
        ),
    ),
    filler=(
        "Local [schools|choirs|clubs] [take part|join in] every year.",
        "[Volunteers|Dozens of volunteers] spend [months|weeks] getting ready for it.",
        "Roads in the town center are closed [for the day|from early morning|until late evening].",
        "Money raised goes to [local charities|the lifeboat station|the town's food bank].",
        "Extra [trains|buses] run from the nearby towns[ all day|].",
        "Hotels in the area are often [fully booked|full] [weeks|months] in advance.",
    ),
)

KINDS = (TOWN, PERSON, COMPANY, CREATURE, LANDMARK, FESTIVAL)

COLORS = (
    "pale green with brown spots",
    "dark brown with a yellow stripe",
    "silver grey",
    "bright orange",
    "black with white bars",
    "sandy yellow",
)
MATERIALS = ("red brick", "sandstone", "granite", "limestone", "timber and stone", "grey slate")
PLACES = (
    "the market square",
    "Victoria Park",
    "the castle grounds",
    "the harbor gardens",
    "the old showground",
)
WORKS = (
    "designing the covered market in {town2}",
    "a book about the birds of {region}",
    "a set of paintings of the {river} in winter",
    "building the first lifeboat station on the coast",
    "a map of the caves under the Carrow Hills",
    "restoring the old organ in {town2}",
    "a study of mountain ferns",
    "a series of photographs of fishing families",
)
AWARDS = ("Harwood Medal", "Fenwick Prize", "Gold Award of the Royal Society of Arts", "Northern Book Prize")


def _year_set(rng: random.Random, n: int, low: int, high: int) -> list[int]:
    years: list[int] = []
    while len(years) < n:
        year = rng.randint(low, high)
        if all(abs(year - y) > 2 for y in years):
            years.append(year)
    return sorted(years)


def make_entity(rng: random.Random, kind: Kind | None = None) -> Entity:
    """Invent one entity with all its attribute values.

    Args:
        rng: the random generator.
        kind: the entity kind; random when None.

    Returns:
        The entity. Its ``values`` map each attribute key to the exact text of the value.
    """
    kind = kind or rng.choice(KINDS)
    cast = world.Cast(rng)
    town, town2, town3 = pick(rng, world.TOWNS, 3)
    ctx: dict[str, Any] = {
        "region": rng.choice(world.REGIONS),
        "town": town,
        "town2": town2,
        "river": rng.choice(world.RIVERS),
        "profession": rng.choice(world.PROFESSIONS),
    }
    values: dict[str, str] = {}
    if kind is TOWN:
        founded = rng.randint(1100, 1700)
        railway = rng.randint(1840, 1905)
        stem = rng.choice(world.COMPANY_STEMS)
        company_kind, _, products = rng.choice(world.COMPANY_KINDS)
        ctx.update(
            name=town,
            mayor_year=str(rng.randint(2012, 2022)),
            twin_year=str(rng.randint(1955, 1995)),
            products=products,
        )
        values.update(
            founded=str(founded),
            population=thousands(rng.randint(40, 900) * 100),
            river=rng.choice(world.RIVERS),
            known_for=rng.choice(world.KNOWN_FOR),
            mayor=cast.person().full,
            market_day=rng.choice(world.WEEKDAYS),
            railway=str(railway),
            twin=town3,
            employer=f"{stem} {company_kind}",
        )
        ctx["river"] = values["river"]
    elif kind is PERSON:
        person = cast.person()
        born = rng.randint(1820, 1950)
        died = born + rng.randint(58, 94)
        ctx.update(
            name=person.full,
            subj=person.subj,
            obj=person.obj,
            poss=person.poss,
            poss_cap=person.poss.capitalize(),
            award_year=str(born + rng.randint(32, 55)),
            age=str(died - born),
        )
        values.update(
            born=str(born),
            birthplace=town,
            teacher=cast.person().full,
            work=render(rng, rng.choice(WORKS), ctx),
            award=rng.choice(AWARDS),
            moved=town3,
            died=str(died),
        )
    elif kind is COMPANY:
        stem = rng.choice(world.COMPANY_STEMS)
        company_kind, desc, products = rng.choice(world.COMPANY_KINDS)
        founded = rng.randint(1860, 1990)
        ctx.update(name=f"{stem} {company_kind}", desc=desc, ceo_year=str(rng.randint(2008, 2022)))
        values.update(
            founded=str(founded),
            founder=cast.person().full,
            hq=town,
            staff=thousands(rng.randint(6, 160) * 50),
            products=products,
            ceo=cast.person().full,
        )
    elif kind is CREATURE:
        short, sort, diet = rng.choice(world.CREATURES)
        prefix = ctx["region"].replace("the ", "").split()[0].capitalize()
        ctx.update(name=f"the {prefix} {short}", short=f"{prefix} {short}", sort=sort)
        values.update(
            habitat=rng.choice(world.HABITATS),
            size=f"{number_word(rng.randint(3, 12))} centimeters",
            diet=diet,
            describer=cast.person().full,
            recorded=str(rng.randint(1790, 1960)),
            color=rng.choice(COLORS),
            lifespan=number_word(rng.randint(3, 12)),
            breeds=rng.choice(world.MONTHS),
        )
    elif kind is LANDMARK:
        label, _, material, purpose = rng.choice(world.LANDMARK_KINDS)
        built, restored = _year_set(rng, 2, 1650, 2015)
        ctx.update(name=f"the {town} {label}", short=label)
        values.update(
            built=str(built),
            architect=cast.person().full,
            height=f"{rng.randint(12, 68)} meters",
            material=material,
            purpose=purpose,
            restored=str(restored),
            visitors=thousands(rng.randint(4, 120) * 500),
        )
    else:
        label, attraction = rng.choice(world.FESTIVAL_KINDS)
        first = rng.randint(1920, 2005)
        ctx.update(name=f"the {town} {label}", org_year=str(rng.randint(2006, 2021)))
        values.update(
            month=rng.choice(world.MONTHS),
            first=str(first),
            visitors=thousands(rng.randint(8, 200) * 250),
            organizer=cast.person().full,
            place=rng.choice(PLACES),
            attraction=attraction,
        )
    return Entity(kind, ctx, values)


def _attr(entity: Entity, key: str) -> Attr:
    return next(a for a in entity.kind.attrs if a.key == key)


def statement(rng: random.Random, entity: Entity, key: str, template: str | None = None) -> str:
    """State one attribute of an entity in a full sentence.

    Args:
        rng: the random generator.
        entity: the entity.
        key: the attribute to state.
        template: a statement template; a random one of the attribute's when None.

    Returns:
        The sentence.
    """
    attr = _attr(entity, key)
    ctx = dict(entity.ctx, value=entity.values[key])
    return sentence(rng, template or rng.choice(attr.statements), ctx)


def questions(rng: random.Random, entity: Entity, key: str) -> list[str]:
    """All the ways to ask for one attribute, rendered.

    Args:
        rng: the random generator.
        entity: the entity.
        key: the attribute asked for.

    Returns:
        One question per template, plus a longer "According to the passage" form of each.
    """
    out = []
    for template in _attr(entity, key).questions:
        q = sentence(rng, template, entity.ctx)
        out.append(q)
        lead = rng.choice(("According to the passage,", "Based on the text,", "From the passage,"))
        out.append(f"{lead} {q[0].lower()}{q[1:]}")
    return out


def _whole(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(value)}(?!\w)")


def count_whole(text: str, value: str) -> int:
    """How often ``value`` occurs in ``text`` as whole words.

    Args:
        text: the passage.
        value: the answer text.

    Returns:
        The number of occurrences not glued to other letters or digits.
    """
    return len(_whole(value).findall(text))


def find_whole(text: str, value: str) -> int:
    """Where ``value`` first occurs in ``text`` as whole words.

    Args:
        text: the text to search.
        value: the text to find.

    Returns:
        The character offset.

    Raises:
        ValueError: it does not occur.
    """
    match = _whole(value).search(text)
    if match is None:
        raise ValueError(f"{value!r} not found in {text!r}")
    return match.start()


@dataclass
class Passage:
    """A passage about one entity, sentence by sentence, with the attribute each states."""

    entity: Entity
    intro: str
    sentences: list[tuple[str | None, str]]


def passage(rng: random.Random, entity: Entity) -> Passage:
    """Write every statement and filler sentence about an entity, in a natural order.

    Args:
        rng: the random generator.
        entity: the entity.

    Returns:
        The passage: an intro sentence, then statements (tagged with their attribute key) mixed
        with filler sentences (tagged None).
    """
    ctx = entity.ctx
    intro = sentence(rng, rng.choice(entity.kind.intro), ctx)
    facts: list[tuple[str | None, str]] = [
        (a.key, statement(rng, entity, a.key)) for a in shuffled(rng, entity.kind.attrs)
    ]
    fillers: list[tuple[str | None, str]] = [
        (None, sentence(rng, t, ctx)) for t in shuffled(rng, entity.kind.filler)
    ]
    merged: list[tuple[str | None, str]] = []
    while facts or fillers:
        if facts and (not fillers or rng.random() < 0.65):
            merged.append(facts.pop(0))
        else:
            merged.append(fillers.pop(0))
    return Passage(entity, intro, merged)
