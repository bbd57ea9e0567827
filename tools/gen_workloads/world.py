"""The invented world the workloads talk about: its towns, people, firms, goods and creatures.

Every name here was made up for this project (any likeness to a real place, firm or person is
chance). The lists are plain data; the text modules pick from them with a seeded generator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

TOWNS = (
    "Halvern",
    "Marrowick",
    "Eastbrook",
    "Port Selden",
    "Ashcombe",
    "Wrenford",
    "Kelby",
    "Dunmore",
    "Brackley Cross",
    "Tamsworth",
    "Lowmere",
    "Caddon Bay",
    "Farrowgate",
    "Pellham",
    "Ravensholt",
    "Stoney Marsh",
    "Wickerby",
    "Northam Quay",
    "Glenard",
    "Oakhurst",
    "Millbrook",
    "Sutter Falls",
    "Castlereagh",
    "Bramwell",
    "Hollins Ford",
    "Yarrow",
    "Penrick",
    "Westmere",
    "Coldharbour",
    "Linden Vale",
)

RIVERS = (
    "Selden",
    "Arrow",
    "Tarn",
    "Wyre",
    "Calder",
    "Marrow",
    "Ouse",
    "Lune",
    "Brent",
    "Ashburn",
    "Kennet",
    "Dove",
    "Idle",
    "Fennick",
)

REGIONS = (
    "the Carrow Hills",
    "the Venmoor lake district",
    "the western valleys",
    "the Elsin valley",
    "the southern downs",
    "the Harth region",
    "the eastern fens",
    "the Bryn uplands",
    "the Tamber district",
    "the Saltings",
)

STREETS = (
    "Mill Street",
    "Harbor Road",
    "Station Lane",
    "Orchard Way",
    "Market Square",
    "Church Hill",
    "Bridge Street",
    "Elm Avenue",
    "Victoria Road",
    "Quarry Lane",
    "Fisher Row",
    "Park Terrace",
    "Chapel Street",
    "Long Acre",
    "Tanner's Walk",
    "Cooper Street",
    "Riverside Drive",
    "Beacon Road",
)

FEMALE_NAMES = (
    "Anna",
    "Clara",
    "Maya",
    "Ruth",
    "Helen",
    "Nadia",
    "Grace",
    "Lucy",
    "Esther",
    "Priya",
    "Sofia",
    "Joan",
    "Mei",
    "Hannah",
    "Irene",
    "Laura",
    "Amara",
    "Fiona",
    "Tess",
    "Margaret",
    "Leila",
    "Beatrice",
    "Rosa",
    "Alice",
    "Ingrid",
    "Yasmin",
    "Carol",
    "Elena",
    "Martha",
    "Olive",
)

MALE_NAMES = (
    "Tom",
    "Daniel",
    "Samuel",
    "Owen",
    "Victor",
    "Arjun",
    "Peter",
    "Marcus",
    "Felix",
    "Jonah",
    "Hugo",
    "Callum",
    "Ravi",
    "Edward",
    "Luis",
    "Henry",
    "Kofi",
    "Martin",
    "George",
    "Isaac",
    "Patrick",
    "Stefan",
    "Walter",
    "Leon",
    "Ben",
    "Neil",
    "Omar",
    "Rupert",
    "Alan",
    "Theo",
)

SURNAMES = (
    "Ashdown",
    "Barlow",
    "Carver",
    "Delaney",
    "Ellison",
    "Fairbairn",
    "Garrow",
    "Hendry",
    "Ingram",
    "Jessop",
    "Kettering",
    "Lowell",
    "Marsh",
    "Nolan",
    "Okafor",
    "Pennington",
    "Quinlan",
    "Ramsay",
    "Sorensen",
    "Thackeray",
    "Underwood",
    "Varga",
    "Whitlock",
    "Yardley",
    "Abbott",
    "Brennan",
    "Chadwick",
    "Dunbar",
    "Everett",
    "Fielding",
    "Gupta",
    "Holloway",
    "Iverson",
    "Kaur",
    "Lindqvist",
    "Mbeki",
    "Novak",
    "Ortega",
    "Prescott",
    "Reyes",
    "Sato",
    "Tanaka",
    "Wainwright",
    "Winslow",
    "Zielinski",
    "Hartley",
    "Moreau",
    "Castell",
)

BRANDS = (
    "Corvane",
    "Tidewell",
    "Bramblehouse",
    "Northwick",
    "Lumora",
    "Greystone",
    "Kestrel",
    "Orbury",
    "Halden",
    "Vireo",
    "Palisade",
    "Quillon",
    "Redfern",
    "Sandmoor",
    "Tollard",
    "Wexley",
)

COMPANY_STEMS = (
    "Corvane",
    "Tidewell",
    "Bellweather",
    "Northgate",
    "Greystone",
    "Alder",
    "Harrowfield",
    "Blue Heron",
    "Kestrel",
    "Marlow",
    "Silverline",
    "Oakridge",
    "Redfern",
    "Westholm",
)

COMPANY_KINDS = (
    ("Foods", "a food company", "frozen meals and baked goods"),
    ("Energy", "an energy company", "solar panels and home batteries"),
    ("Rail", "a rail operator", "regional train services"),
    ("Systems", "a software firm", "accounting software for small shops"),
    ("Textiles", "a textile maker", "wool blankets and outdoor clothing"),
    ("Robotics", "a robotics firm", "warehouse robots"),
    ("Pharmaceuticals", "a drug maker", "generic medicines"),
    ("Shipping", "a shipping firm", "container shipping along the coast"),
    ("Glassworks", "a glass maker", "windows and laboratory glass"),
    ("Bicycles", "a bicycle maker", "touring and cargo bicycles"),
    ("Instruments", "an instrument maker", "weather sensors and scientific instruments"),
    ("Paper", "a paper mill", "recycled paper and packaging"),
)

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

RELATIVES = (
    ("sister", "herself", "her"),
    ("brother", "himself", "his"),
    ("mother", "herself", "her"),
    ("father", "himself", "his"),
    ("neighbor", "herself", "her"),
    ("flatmate", "himself", "his"),
    ("daughter", "herself", "her"),
    ("son", "himself", "his"),
    ("aunt", "herself", "her"),
    ("uncle", "himself", "his"),
)

PROFESSIONS = (
    "engineer",
    "teacher",
    "nurse",
    "architect",
    "baker",
    "chemist",
    "carpenter",
    "librarian",
    "painter",
    "botanist",
    "pilot",
    "surveyor",
    "violinist",
    "journalist",
    "geologist",
    "potter",
    "physician",
    "photographer",
    "astronomer",
    "shipwright",
)


@dataclass(frozen=True)
class Person:
    """A person mentioned in a text, with the pronouns that agree with them."""

    first: str
    last: str
    female: bool

    @property
    def full(self) -> str:
        """First and last name."""
        return f"{self.first} {self.last}"

    @property
    def subj(self) -> str:
        """Subject pronoun."""
        return "she" if self.female else "he"

    @property
    def obj(self) -> str:
        """Object pronoun."""
        return "her" if self.female else "him"

    @property
    def poss(self) -> str:
        """Possessive determiner."""
        return "her" if self.female else "his"

    @property
    def refl(self) -> str:
        """Reflexive pronoun."""
        return "herself" if self.female else "himself"


@dataclass
class Cast:
    """Hands out people with distinct first and last names within one text."""

    rng: random.Random
    used_first: set[str] = field(default_factory=set)
    used_last: set[str] = field(default_factory=set)

    def person(self, female: bool | None = None) -> Person:
        """Make a new person whose names are not yet used in this text.

        Args:
            female: force the gender; random when None.

        Returns:
            A new :class:`Person`.
        """
        if female is None:
            female = self.rng.random() < 0.5
        names = FEMALE_NAMES if female else MALE_NAMES
        first = self.rng.choice([n for n in names if n not in self.used_first])
        last = self.rng.choice([n for n in SURNAMES if n not in self.used_last])
        self.used_first.add(first)
        self.used_last.add(last)
        return Person(first, last, female)


@dataclass(frozen=True)
class ProductKind:
    """A kind of household product: what it is called, its parts, what it is used for."""

    name: str
    parts: tuple[str, ...]
    uses: tuple[str, ...]
    failures: tuple[str, ...]
    soft: bool = False


PRODUCT_KINDS = (
    ProductKind(
        "kettle",
        ("lid", "handle", "switch", "base", "spout"),
        ("boil water for tea in the morning", "make coffee before work", "heat water for soup"),
        ("the switch stopped clicking off", "the lid would no longer stay shut", "the base began to leak"),
    ),
    ProductKind(
        "backpack",
        ("zip", "strap", "side pocket", "back panel", "buckle"),
        ("carry my laptop to the office", "take on day hikes", "carry books to class"),
        ("the main zip split open", "one strap tore at the seam", "the buckle snapped"),
        soft=True,
    ),
    ProductKind(
        "desk lamp",
        ("arm", "base", "dimmer", "shade", "cable"),
        ("read in the evening", "light my work desk", "sketch late at night"),
        (
            "the light began to flicker",
            "the arm would no longer hold its position",
            "the dimmer stopped working",
        ),
    ),
    ProductKind(
        "blender",
        ("jug", "lid", "blade", "motor", "dial"),
        ("make smoothies for breakfast", "blend soups", "crush ice for drinks"),
        ("the motor started to smell of burning", "the jug cracked near the base", "the blade came loose"),
    ),
    ProductKind(
        "rain jacket",
        ("hood", "zip", "cuff", "pocket", "collar"),
        ("walk the dog in bad weather", "cycle to work", "go hiking in the hills"),
        ("the seams started to leak", "the zip jammed halfway", "the hood tore at the collar"),
        soft=True,
    ),
    ProductKind(
        "tent",
        ("pole", "zip", "groundsheet", "door", "guy line"),
        ("go camping with my family", "spend weekends by the lake", "take on cycling trips"),
        ("one of the poles snapped", "the groundsheet let water in", "the door zip broke"),
    ),
    ProductKind(
        "coffee grinder",
        ("hopper", "dial", "lid", "motor", "burr"),
        ("grind beans for my morning coffee", "make fresh coffee on weekends", "grind spices for cooking"),
        ("the motor stopped halfway through", "the dial slipped out of place", "the lid cracked"),
    ),
    ProductKind(
        "vacuum cleaner",
        ("hose", "brush head", "filter", "handle", "dust box"),
        ("clean the stairs", "pick up dog hair", "keep a busy flat tidy"),
        ("the suction dropped to almost nothing", "the hose split", "the brush head stopped turning"),
    ),
    ProductKind(
        "office chair",
        ("seat", "armrest", "back", "wheel", "lever"),
        ("work from home", "sit at my desk for long days", "study in the evenings"),
        ("the seat started to sink", "an armrest came loose", "one wheel cracked"),
    ),
    ProductKind(
        "electric toothbrush",
        ("handle", "brush head", "charger", "button", "timer"),
        ("brush my teeth twice a day", "take on trips", "replace my manual brush"),
        ("the battery stopped holding a charge", "the button got stuck", "the charger stopped working"),
    ),
    ProductKind(
        "bike light",
        ("clip", "lens", "button", "strap", "battery"),
        ("cycle home after dark", "ride to work in winter", "ride on country lanes at night"),
        ("the clip snapped", "the battery died after an hour", "water got inside the lens"),
    ),
    ProductKind(
        "water bottle",
        ("lid", "handle", "seal", "spout", "base"),
        ("carry water to the gym", "take on long walks", "keep drinks cold at work"),
        ("the seal started to leak", "the lid cracked", "the paint peeled off the base"),
    ),
    ProductKind(
        "toaster",
        ("lever", "crumb tray", "dial", "slot", "button"),
        ("make toast for the family", "toast bagels", "make a quick breakfast"),
        ("the lever stopped staying down", "one side stopped heating", "the dial fell off"),
    ),
    ProductKind(
        "wireless speaker",
        ("button", "strap", "charging port", "grille", "battery"),
        ("play music in the kitchen", "listen to podcasts in the garden", "take to the beach"),
        ("the sound began to crackle", "the charging port came loose", "it stopped pairing with my phone"),
    ),
    ProductKind(
        "laptop stand",
        ("hinge", "base", "arm", "rubber pad", "clamp"),
        ("raise my screen to eye level", "work from the kitchen table", "keep my laptop cool"),
        ("the hinge started to slip", "a rubber pad fell off", "the arm bent"),
    ),
    ProductKind(
        "sleeping bag",
        ("zip", "hood", "lining", "stuff sack", "drawcord"),
        ("go camping in spring", "sleep in a cold tent", "take on a hiking trip"),
        ("the zip split", "the lining tore", "the filling bunched up at the bottom"),
        soft=True,
    ),
    ProductKind(
        "kitchen scale",
        ("display", "bowl", "button", "platform", "battery cover"),
        ("weigh flour for baking", "measure coffee beans", "portion food for the week"),
        ("the display went blank", "the readings started to drift", "the battery cover broke"),
    ),
    ProductKind(
        "umbrella",
        ("canopy", "handle", "spoke", "button", "strap"),
        ("walk to the station in the rain", "keep dry on windy days", "carry in my bag"),
        ("two spokes bent in a light wind", "the button stuck", "the canopy tore"),
        soft=True,
    ),
    ProductKind(
        "alarm clock",
        ("display", "snooze button", "dial", "speaker", "stand"),
        ("wake up for early shifts", "keep my phone out of the bedroom", "get up for school"),
        ("the alarm stopped ringing", "the display began to flicker", "the snooze button broke"),
    ),
    ProductKind(
        "rice cooker",
        ("lid", "inner pot", "steam vent", "button", "cord"),
        ("cook rice for the week", "make porridge in the morning", "steam vegetables"),
        ("the coating peeled off the inner pot", "the lid seal split", "the button stopped working"),
    ),
)

DISHES = (
    "the roast chicken",
    "the mushroom risotto",
    "the fish stew",
    "the lamb curry",
    "the spinach pie",
    "the grilled trout",
    "the pork belly",
    "the vegetable lasagna",
    "the beef burger",
    "the crab linguine",
    "the chickpea salad",
    "the pumpkin soup",
    "the steak and chips",
    "the duck noodles",
    "the goat cheese tart",
)

DESSERTS = (
    "the lemon tart",
    "the chocolate cake",
    "the apple crumble",
    "the rhubarb fool",
    "the cheesecake",
    "the sticky toffee pudding",
    "the pear sorbet",
    "the rice pudding",
)

RESTAURANT_NAMES = (
    "The Copper Pot",
    "Marigold Kitchen",
    "The Salt House",
    "Juniper",
    "The Blue Door",
    "Fenwick's",
    "The Old Granary",
    "Little Orchard",
    "The Lantern",
    "Harbor Grill",
    "The Green Fig",
    "Rosemary and Thyme",
)

HOTEL_NAMES = (
    "the Harbor View Hotel",
    "the Old Mill Inn",
    "the Grand Station Hotel",
    "the Larch House",
    "the Quayside Lodge",
    "the Castle Arms",
    "the Meadow Hotel",
    "the Beacon Inn",
    "the Riverside Hotel",
    "the Wheatsheaf Hotel",
)

FILM_TITLES = (
    "The Last Lighthouse",
    "A Winter in Halvern",
    "Paper Boats",
    "The Salt Road",
    "Northern Glass",
    "Under the Quarry",
    "The Quiet Orchard",
    "Tide Tables",
    "The Clockmaker's Daughter",
    "Small Hours",
    "The Ferry Keeper",
    "Seven Bridges",
)

FILM_GENRES = (
    "drama",
    "comedy",
    "thriller",
    "mystery",
    "family film",
    "romantic comedy",
    "war drama",
    "science fiction film",
)

APP_NAMES = (
    ("Tally", "track my spending"),
    ("Routewise", "plan train journeys"),
    ("Sprout", "remember to water my plants"),
    ("Pagemark", "keep track of the books I read"),
    ("Stepwell", "count my daily steps"),
    ("Larder", "plan meals for the week"),
    ("Quietly", "practice short meditations"),
    ("Fieldnote", "take notes in meetings"),
    ("Tidetime", "check tide times before fishing"),
    ("Lingo Lane", "practice Spanish every day"),
)

CREATURES = (
    ("glass frog", "frog", "insects"),
    ("ridge beetle", "beetle", "rotting wood"),
    ("marsh wren", "bird", "small snails"),
    ("lantern moth", "moth", "the nectar of night flowers"),
    ("silver vole", "rodent", "seeds and grass roots"),
    ("reed snake", "snake", "frogs and small fish"),
    ("cliff bat", "bat", "flying insects"),
    ("stone crab", "crab", "algae and dead fish"),
    ("amber newt", "newt", "worms and water fleas"),
    ("dusk owl", "owl", "mice and voles"),
    ("mountain hare", "hare", "heather and grasses"),
    ("sand lizard", "lizard", "beetles and spiders"),
)

HABITATS = (
    "slow streams in old woodland",
    "salt marshes along the coast",
    "high moorland above the tree line",
    "limestone caves",
    "reed beds at the edge of lakes",
    "rocky shores",
    "pine forests on the northern slopes",
    "wet meadows beside rivers",
)

LANDMARK_KINDS = (
    ("Clock Tower", "tower", "brick", "a fire watch post"),
    ("Corn Exchange", "hall", "sandstone", "a grain market"),
    ("Lighthouse", "lighthouse", "granite", "a warning light for ships"),
    ("Town Hall", "hall", "sandstone", "the seat of the town council"),
    ("Observatory", "observatory", "limestone", "a weather station"),
    ("Pump House", "building", "red brick", "a water pumping station"),
    ("Assembly Rooms", "hall", "stone", "a dance hall"),
    ("Windmill", "windmill", "timber and stone", "a flour mill"),
)

FESTIVAL_KINDS = (
    ("Lantern Festival", "a parade of paper lanterns along the river"),
    ("Apple Fair", "a contest for the largest apple pie"),
    ("Kite Day", "the sight of hundreds of kites over the common"),
    ("Folk Week", "a free concert in the town square"),
    ("Boat Race", "a rowing race between the two bridges"),
    ("Harvest Supper", "a long table laid down the high street"),
    ("Light Festival", "a light show projected onto the old church"),
    ("Cheese Market", "a tasting of cheeses from more than forty farms"),
)

KNOWN_FOR = (
    "its glass workshops",
    "its covered market",
    "its annual kite festival",
    "a long shingle beach",
    "its old stone bridges",
    "a famous cheese made from sheep's milk",
    "its boatyards",
    "a ruined abbey",
    "its rose gardens",
    "a small but busy railway museum",
    "its cider orchards",
    "a steep cobbled high street",
)


def money(rng: random.Random, low: float, high: float, unit: str = "million") -> str:
    """A sum of money in dollars, such as ``"4.2 million dollars"`` or ``"$4.2 million"``.

    Args:
        rng: the random generator.
        low: the smallest amount, in units.
        high: the largest amount, in units.
        unit: ``"million"`` or ``""`` for plain dollars.

    Returns:
        The amount written out.
    """
    tenths = rng.randint(int(low * 10), int(high * 10))
    amount = f"{tenths // 10}.{tenths % 10}" if tenths % 10 else str(tenths // 10)
    if unit:
        return rng.choice((f"{amount} {unit} dollars", f"${amount} {unit}"))
    return f"${amount}"


def price(rng: random.Random) -> str:
    """A shop price such as ``"$49"``.

    Args:
        rng: the random generator.

    Returns:
        The price written out.
    """
    return f"${rng.choice((12, 15, 19, 24, 29, 35, 39, 45, 49, 59, 65, 79, 89, 99, 120, 149))}"
