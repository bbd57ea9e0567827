"""Short stories about people in the invented towns, used in text-generation prompts.

Each scenario is a sequence of beats told in order; sentences about the weather, the
surroundings and the main character's thoughts are woven between the beats. A story can stop
after any sentence, which suits a "continue the story" prompt.
"""

from __future__ import annotations

import random
from typing import Any

from . import world
from .draft import Draft
from .engine import pick, sentence, shuffled

SCENARIOS: tuple[tuple[str, ...], ...] = (
    (
        "{name} [got home|arrived back at {P} flat] late on {weekday} [evening|night] and reached into "
        "{P} coat pocket for {P} keys.",
        "The pocket was empty, and so was the other one.",
        "{S} [searched|emptied] {P} bag on the doorstep, but found only a bus ticket, two coins and a "
        "pencil.",
        "{S} tried to remember where {S} had last seen the keys, and thought of the cafe on {street}.",
        "The cafe would be closed by now, so {S} knocked on the door of {P} neighbor, {friend}.",
        "{friend} opened the door in {fP} slippers and [listened to the story with a smile|laughed before "
        "{fS} could stop {fR}].",
        '"You are the third person this month," {friend} said, and went to put the kettle on.',
        "While the water boiled, {friend} phoned the owner of the cafe, who lived above the shop.",
        "Ten minutes later a text arrived: a set of keys with a small brass anchor had been found under "
        "a table.",
        "{name} thanked {friend} [twice|three times] and walked back through the empty streets.",
        "The owner was waiting at the side door with the keys in one hand and a paper bag in the other.",
        '"The last two cakes," the owner said. "They will not keep until tomorrow."',
        "{name} walked home more slowly than {S} had left, eating one of the cakes as {S} went.",
    ),
    (
        "It was {name}'s first day at the harbor office in {town}, and {S} arrived twenty minutes early.",
        "The door was still locked, so {S} stood by the railings and watched the fishing boats come in.",
        "At eight o'clock someone with a bunch of keys and a flask of coffee came along the quay.",
        '"You must be the new clerk," {fS} said. "I am {friend}. Nobody told me you were so punctual."',
        "Inside, the office smelled of paper, salt and old wood.",
        "{friend} showed {O} the ledgers, the tide tables and a telephone that rang every few minutes.",
        "By mid-morning {name} had logged the arrival of six boats and spilled coffee on only one form.",
        "At lunch {S} sat on an upturned crate and ate a sandwich while the gulls watched {O} closely.",
        "In the afternoon a captain came in, angry about a mooring fee that had doubled since spring.",
        "{name} found the letter that explained the change and read it out to him slowly and clearly.",
        "The captain grumbled, paid, and on his way out said that at least the new clerk could read.",
        '"That is high praise from him," {friend} said, "he once told the harbor master to learn to count."',
        "When the office closed, {name} walked home along the sea wall, tired and quietly pleased.",
    ),
    (
        "The storm reached {town} a little after nine, and by ten the lights in {name}'s house began to "
        "flicker.",
        "{S} found candles in the kitchen drawer and matches in a tin above the stove.",
        "Just as {S} lit the second candle, the whole street went dark.",
        "Outside, the wind pushed against the windows and rattled the gate at the end of the garden.",
        "{name} thought of {P} grandmother, who lived alone two streets away and hated storms.",
        "{S} put on {P} boots and {P} heaviest coat and went out into the rain with a torch.",
        "Branches and leaves lay across the pavement, and water ran down the middle of the road.",
        "{P_cap} grandmother's house was dark, but {S} could see a small light moving behind the curtains.",
        "The old woman opened the door holding a lantern that had belonged to her father.",
        '"I wondered when you would come," she said. "I have been saving the good biscuits."',
        "They sat together in the kitchen and listened to the storm while the kettle boiled on the gas.",
        "{P_cap} grandmother told a story about the great flood of {flood_year}, when the river reached the "
        "church steps.",
        "Around midnight the wind began to drop, and the lights came back on all at once.",
    ),
    (
        "Every {weekday}, {name} loaded the van with vegetables before dawn and drove to the market in "
        "{town}.",
        "This week the van held boxes of carrots, late tomatoes, four kinds of potatoes and a single "
        "enormous pumpkin.",
        "{S} set up {P} stall between the cheese seller and a woman who sold honey and candles.",
        "The first customers were the same as always: two chefs, a retired teacher and a boy sent by "
        "his mother.",
        "By nine o'clock the square was full, and {name} had to weigh and wrap without stopping.",
        "A man in a long coat asked the price of the pumpkin, laughed, and walked away.",
        "Half an hour later he came back with a child who refused to leave without it.",
        "{name} let it go for less than {S} had hoped, because the child was carrying it like a prize.",
        "In a quiet moment {friend} from the honey stall brought over a cup of tea and a slice of cake.",
        "They talked about the weather, the price of fuel and the new supermarket on the ring road.",
        '"People still come here," {friend} said. "They like to know who grew their food."',
        "By two o'clock most of the boxes were empty, and {name} began to pack up.",
        "{S} drove home with the windows open, counting the money in {P} head and planning next week.",
    ),
    (
        "{name} caught the early train from {town} to visit {P} grandfather, who had not been well.",
        "The carriage was almost empty, and {S} chose a seat by the window facing forward.",
        "Fields, farms and grey stone villages slid past as the sun came up over the hills.",
        "At {town2} the train stopped and did not move again for a long time.",
        "A voice announced a fault with the signals and apologized for the delay.",
        "{name} sent a message to {P} grandfather, who replied that he was not going anywhere.",
        "A woman across the aisle offered {O} a sandwich and said she was going to the same town.",
        "Her name was {friend}, and she had grown up in the street next to {P} grandfather's house.",
        "She remembered him as the man who mended every bicycle in the neighborhood for free.",
        "When the train finally moved, they had talked for an hour and swapped phone numbers.",
        "{P_cap} grandfather was waiting at the station in his best jacket, leaning on a stick.",
        "He recognized {friend} at once and asked whether she still had the red bicycle.",
        "She laughed and said it was in her garden shed, with two flat tyres and a basket full of leaves.",
    ),
    (
        "The boat had been lying upside down in {name}'s grandfather's yard for eleven years.",
        "Its paint had peeled, and moss had grown along the keel, but the wood underneath was sound.",
        "One spring morning {name} and {P} grandfather decided it was time to put it back on the water.",
        "They turned it over with help from two neighbors and a great deal of shouting.",
        "For three weekends they scraped, sanded and filled every crack they could find.",
        "{P_cap} grandfather knew the name of every tool and the right way to hold each one.",
        "He told {name} about the summers when he fished from the boat with his own father.",
        "They painted the hull dark blue and the inside a pale cream, as it had been long ago.",
        "On the last evening {name} painted a new name on the bow in careful white letters.",
        "The next morning they towed the boat down to the slipway on a borrowed trailer.",
        "A small crowd gathered to watch, including people who had never seen it afloat.",
        "The boat slid into the water, rocked twice and floated as if it had never been away.",
        "{P_cap} grandfather took the oars, and for a while neither of them said anything at all.",
    ),
    (
        "{name} had entered the baking competition at the {town} fair almost as a joke.",
        "{P_cap} friend {friend} had dared {O} to do it after tasting {P} lemon cake at a birthday party.",
        "The night before the fair, {S} baked three cakes and threw away two of them.",
        "The third one rose evenly and smelled of lemons and warm butter.",
        "{S} carried it to the fair in a tin on {P} lap, holding it steady over every bump in the road.",
        "The baking tent was hot and crowded, and the long table was covered with cakes of every kind.",
        "There were towers of chocolate, fruit cakes as heavy as bricks and a cake shaped like a castle.",
        "{name}'s plain lemon cake looked very small next to them.",
        "The judges, a retired baker and the mayor's wife, moved slowly along the table with small forks.",
        "They took longer over the lemon cake than over the castle, and one of them went back for more.",
        "When the results were read out, {name} did not hear {P} name at first.",
        "{friend} grabbed {P} arm and shouted that {S} had won second prize.",
        "The first prize went to the castle, but the judges asked {name} for the recipe.",
    ),
    (
        "The letter arrived on a {weekday}, in a pale blue envelope with a stamp from overseas.",
        "{name} recognized the handwriting before {S} had read the name on the back.",
        "It was from {friend}, who had moved away from {town} twenty years before.",
        "They had been close at school and then, without any quarrel, had simply lost touch.",
        "The letter said that {friend} was coming back to {town} for a month in the summer.",
        "{fS_cap} wrote about {fP} work, {fP} children and a garden full of lemon trees.",
        "At the end {fS} asked whether the old cafe by the bridge was still open.",
        "{name} read the letter twice at the kitchen table and then once more standing by the window.",
        "The cafe had closed years ago, but a bakery had opened in the same building.",
        "{S} wrote back that evening, filling three pages before {S} noticed the time.",
        "In {P} reply {S} described the new bakery, the flooded summer and the school's new roof.",
        "{S} posted the letter the next morning, walking the long way round to the post office.",
        "After that, {S} found {R} counting the weeks until the summer.",
    ),
    (
        "{name}'s dog, a small brown terrier called Biscuit, ran off on the beach on {weekday} afternoon.",
        "One moment he was chasing gulls at the edge of the water, and the next he had gone.",
        "{name} called his name until {P} voice was hoarse, but the wind carried the sound away.",
        "{S} walked the whole length of the beach and back again, asking everyone {S} met.",
        "A fisherman said he had seen a brown dog running towards the dunes.",
        "In the dunes the sand was soft and deep, and the paths went off in every direction.",
        "As the light began to fade, {name} phoned {friend}, who arrived with a torch and a bag of treats.",
        "They walked in a line, shaking the treat bag and calling, while the first stars came out.",
        "Near the old lifeboat house they heard a faint bark from somewhere under their feet.",
        "Biscuit had crawled into a hollow under the boardwalk and could not turn round to get out.",
        "It took twenty minutes, a borrowed spade and a great deal of patience to free him.",
        "He came out covered in sand, wagging his tail as if nothing had happened.",
        "That night he slept on the end of {name}'s bed, and for once {S} did not send him away.",
    ),
    (
        "{name} moved into the top flat at number {number} {street} on the wettest day of the year.",
        "The van was late, the stairs were narrow, and the sofa would not turn the corner on the landing.",
        "After an hour of pushing and arguing, the removal men took the legs off and tried again.",
        "By evening the flat was full of boxes, and {name} could not find the kettle or the light bulbs.",
        "{S} sat on the floor by the window and ate chips from the paper, watching the rain on the roofs.",
        "From up here {S} could see the river, the church tower and a strip of grey sea beyond the town.",
        "There was a knock at the door, and {S} opened it to find a woman holding a torch and a teapot.",
        "She introduced herself as {friend} from the flat below and said she had heard the sofa arrive.",
        '"Everyone has trouble with that corner," she said. "I had to sell my piano."',
        "She showed {O} where the fuse box was hidden and which floorboards creaked.",
        "She also warned {O} that the boiler made a noise like a train every morning at six.",
        "When she had gone, {name} found the kettle in a box marked books and made a cup of tea at last.",
        "{S} went to bed with the curtains open and listened to the rain until {S} fell asleep.",
    ),
)

# Whether the friend in each scenario must be a woman (the text says "she"), or either.
FRIEND_FEMALE: tuple[bool | None, ...] = (None, None, None, True, True, None, None, None, None, True)

# Sentences about the surroundings, woven between the beats; outdoor ones only in outdoor scenarios.
ANYWHERE = (
    "Somewhere a dog barked, and a door slammed further down the street.",
    "{name} thought, not for the first time, how quickly the day had gone.",
    "The church clock struck the hour, a little late as always.",
    "{S} felt suddenly hungry and remembered that {S} had skipped lunch.",
    "{name} smiled to {R} without quite knowing why.",
    "For a moment everything was very quiet.",
    "{S} tried not to think about the pile of work waiting on {P} desk.",
    "{S} checked {P} phone, but there were no new messages.",
    "Far away, a train sounded its horn as it crossed the river.",
    "{S} realized that {S} had been holding {P} breath.",
    "It was the kind of day that made everything look [older|softer] than it was.",
    "{name} wondered what {P} mother would have said.",
)
OUTDOOR = (
    "The sky over {town} was [low and grey|pale and clear|streaked with pink].",
    "{S} pulled {P} scarf tighter against the wind.",
    "The smell of fresh bread drifted from the bakery on the corner.",
    "A bus went past with its windows fogged, almost empty.",
    "Gulls circled above the rooftops, calling to each other.",
    "A light rain had begun to fall, so fine that it was almost mist.",
    "The street lamps came on one by one along {street}.",
    "An old man on a bench nodded to {O} as {S} passed.",
    "The air smelled of wet leaves and wood smoke.",
    "A group of children ran past, laughing about something {S} could not hear.",
    "{name} remembered a summer long ago when {S} had walked this way every day.",
    "The cold made {P} fingers ache.",
)
# Scenarios told mostly indoors (on a train, at a kitchen table, in a new flat).
INDOOR = (4, 7, 9)


def story_draft(rng: random.Random) -> Draft:
    """Write one story as a :class:`Draft`: beats in order with atmosphere woven in.

    Args:
        rng: the random generator.

    Returns:
        The draft; its head is the first beat.
    """
    cast = world.Cast(rng)
    index = rng.randrange(len(SCENARIOS))
    hero = cast.person()
    friend = cast.person(FRIEND_FEMALE[index])
    town, town2 = pick(rng, world.TOWNS, 2)
    ctx: dict[str, Any] = {
        "name": hero.first,
        "S": hero.subj,
        "O": hero.obj,
        "P": hero.poss,
        "P_cap": hero.poss.capitalize(),
        "R": hero.refl,
        "friend": friend.first,
        "fS": friend.subj,
        "fS_cap": friend.subj.capitalize(),
        "fP": friend.poss,
        "fR": friend.refl,
        "town": town,
        "town2": town2,
        "street": rng.choice(world.STREETS),
        "weekday": rng.choice(world.WEEKDAYS),
        "flood_year": str(rng.randint(1947, 1978)),
        "number": str(rng.randint(3, 88)),
    }
    beats = list(SCENARIOS[index])
    extra = shuffled(rng, ANYWHERE if index in INDOOR else ANYWHERE + OUTDOOR)
    body: list[str] = []
    for beat in beats[1:]:
        body.append(beat)
        if extra and rng.random() < 0.3:
            body.append(extra.pop())
    body.extend(extra[:4])
    return Draft(
        head=[sentence(rng, beats[0], ctx)],
        body=[sentence(rng, t, ctx) for t in body],
        paragraph_sizes=rng.choice(((3, 4), (2, 3, 4), (4, 3, 2))),
        head_separator=" ",
    )
