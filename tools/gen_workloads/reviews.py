"""Customer reviews, positive or negative, for the text-classification workload.

Five domains (household products, restaurants, hotels, films, phone apps), each with its own
opening lines, positive and negative remarks, concessions and verdicts. A review keeps one
polarity from start to end, apart from an optional concession ("The only downside is ...").
"""

from __future__ import annotations

import random
from typing import Any

from . import world
from .draft import Draft
from .engine import pick, sentence, shuffled

DURATIONS = ("three weeks", "two months", "six months", "about a year", "four months", "a full year")
SHORT_DURATIONS = ("a week", "ten days", "a fortnight", "three weeks", "a month", "two weeks")
COMPANIONS = ("my parents", "two colleagues", "my partner", "a group of old friends", "my sister", "the kids")

SHARED_POS = (
    "I have already recommended it to [two friends|my neighbor|everyone at work|my whole family].",
    "I had read mixed reviews beforehand, but my own experience was [excellent|very good|far better than I "
    "expected].",
    "[Honestly|To be honest], I cannot think of [much|anything] I would change.",
    "It [exceeded|went beyond] [my expectations|what I had hoped for] in [almost|nearly] every way.",
)

SHARED_NEG = (
    "I had read glowing reviews beforehand, so I [was very disappointed|felt badly let down].",
    "[Honestly|To be honest], I do not understand [how it has so many good reviews|the positive reviews].",
    "It [fell short|was a letdown] in [almost|nearly] every way.",
    "I have [told my friends|warned my colleagues] [to stay away|not to bother].",
)

PRODUCT: dict[str, tuple[str, ...]] = {
    "open": (
        "I bought this {kind} [last month|in the spring|a few weeks ago] "
        "[after my old one broke|to replace a cheaper model|as a gift for my {relative}].",
        "[We|I] have been using the {brand} {kind} for {duration} now[, almost every day|].",
        "I ordered the {brand} {kind} because [a friend recommended it|the reviews looked good|"
        "it was on sale for {price}].",
        "I needed a [new|decent] {kind} to {use}, so I [tried|chose] this one from {brand}.",
    ),
    "pos": (
        "The {part} feels [solid|sturdy|well made], and it has shown no sign of wear after {duration} "
        "of daily use.",
        "It arrived [two days early|a day earlier than promised|exactly on time] and was packed "
        "[carefully|neatly] with very little plastic.",
        "H:Setting it up took [about five minutes|no time at all|less than ten minutes], and the "
        "instructions were [clear|short and easy to follow].",
        "I mainly use it to {use}, and it does [exactly what I need|the job perfectly|that very well].",
        "For {price}, the quality is [far better than I expected|excellent|hard to beat].",
        "The {part} is [easy to clean|simple to adjust|comfortable to use], which matters more than I "
        "[thought it would|expected].",
        "You can tell that {brand} [paid attention to the small details|thought carefully about the design], "
        "[right down to|even] the {part}.",
        "My {relative} [tried|borrowed] it [last weekend|during a visit] and ordered one for {rel_refl} "
        "the same evening.",
        "H:It is [lighter|quieter|smaller] than my old {kind}, and it [looks smart|takes up less room] "
        "[on the shelf|in the cupboard].",
        "After {duration}, it still works [as well as|just like] it did on the first day.",
        "H:[The finish is smooth|The color is exactly as shown in the photos], and "
        "[nothing rattles or squeaks|every part fits together neatly].",
        "When I had a question about the {part}, the {brand} support team [answered within an hour|"
        "replied the same day] and [were very helpful|solved it quickly].",
        "It is [simple|easy] enough for my [grandmother|young son|elderly neighbor] to use without any help.",
        "I [was worried|had doubts] about buying a {kind} online, but [it was worth the risk|I am glad I "
        "did].",
    ),
    "neg": (
        "Within {short_duration}, {failure}.",
        "It arrived [a week late|with a dent in the side|in a torn box], and [one of the screws was missing|"
        "there was no manual in the box].",
        "H:The instructions were [confusing|badly printed|almost useless], so setting it up took "
        "[most of an evening|well over an hour].",
        "I bought it to {use}, but it [struggles with even that|cannot manage even that simple job].",
        "For {price}, I expected [much better quality|far more than this|something that would last].",
        "H:The {part} [feels flimsy|is awkward to use|is hard to clean], and [it rattles|the whole thing "
        "wobbles] "
        "[every time I use it|whenever I move it].",
        "Customer service took [nine days|two weeks|almost a month] to reply and then "
        "[asked me for the same photos twice|offered only a small discount].",
        "H:It is [louder|heavier|bulkier] than the photos suggest, and it [smells of cheap plastic|"
        "scratches very easily].",
        "H:The {part} [came loose|cracked|started to wobble] [on the second day|after a few uses|"
        "the first time I used it].",
        "None of the features [described|promised] on the box [work as well as they should|"
        "live up to the description].",
        "My old {kind}, which cost half as much, [did a better job|worked far better] for "
        "[six|ten|eight] years.",
        "I tried to [contact|reach] {brand} [twice|three times] about the {part} but [never heard back|"
        "got no useful answer].",
        "Even simple jobs [take much longer|feel harder] than they should, and I often end up "
        "[using something else|borrowing my {relative}'s old one].",
    ),
    "pos_but": (
        "The only [downside|small complaint] is that the {part} is a little [stiff|fiddly|hard to reach] "
        "at first.",
        "[It is not cheap|The price is a little high], but [I think it is worth every cent|"
        "it has already paid for itself].",
    ),
    "neg_but": (
        "To be fair, the {part} looks [nice|smart] and it arrived [quickly|on time].",
        "The design is [attractive|modern], but [that is the only good thing about it|looks are not "
        "everything].",
    ),
    "close_pos": (
        "I would [happily|gladly] recommend it to anyone who needs a [reliable|simple|good] {kind}.",
        "Five stars from me, and I will [buy from|shop with] {brand} again.",
        "Overall, this is [one of the best purchases I have made this year|money well spent].",
    ),
    "close_neg": (
        "I [returned it|sent it back] and would not [buy|order] from {brand} again.",
        "Save your money and look for a different {kind}.",
        "Overall, a [disappointing|frustrating] purchase that I [regret|would not repeat].",
    ),
}

RESTAURANT: dict[str, tuple[str, ...]] = {
    "open": (
        "We had dinner at {name} on {street} [with {companion}|for {occasion}].",
        "I [booked|reserved] a table at {name} in {town} after [reading about it in the local paper|"
        "a friend told me about it|walking past it many times].",
        "{name} opened on {street} [last spring|a few months ago|two years ago], and I finally "
        "[tried|visited] it [last week|on Saturday|with {companion}].",
    ),
    "pos": (
        "{dish_a} was [perfectly cooked|full of flavor|generous and piping hot], and {dish_b} was just as "
        "good.",
        "Our server, {server}, [was friendly without being pushy|knew the menu well] and "
        "[made us feel welcome|checked on us at just the right moments].",
        "The room is [warm|bright|cozy] and [quiet enough to talk|nicely decorated], with "
        "[candles on every table|old photographs of {town} on the walls].",
        "We did not have to wait [long|more than ten minutes] for our food, even though "
        "[the place was full|it was a busy Saturday].",
        "{dessert} was the highlight of the evening, and [we ordered a second one to share|"
        "I am still thinking about it].",
        "Prices are [fair|very reasonable] for the quality, and the bill for [three|four|two] of us came to "
        "[less than we expected|about {bill}].",
        "The wine list is [short but well chosen|small but good], and the staff suggested a [bottle|glass] "
        "that [suited|matched] {dish_a} [perfectly|nicely].",
        "They [were happy to adapt|adapted] a dish for my {relative}, who cannot eat [gluten|nuts|dairy], "
        "[without any fuss|and even checked with the kitchen twice].",
        "Everything [tasted fresh|looked beautiful], and [you can tell the vegetables come from local farms|"
        "the portions were just right].",
        "The bread [arrived warm|was baked that morning] and came with [a rich salted butter|a lovely herb "
        "oil].",
        "Although the kitchen was busy, [every dish came out at the same time|"
        "the food arrived hot and well presented].",
        "It was [easy|simple] to book online, and [they had kept a table by the window for us|"
        "our table was ready when we arrived].",
    ),
    "neg": (
        "{dish_a} was [cold in the middle|badly overcooked|bland and greasy], and {dish_b} was not much "
        "better.",
        "We waited [fifty minutes|over an hour|almost forty minutes] for our main course, and "
        "[nobody apologized|no one explained the delay].",
        "Our server [seemed annoyed by our questions|forgot our drinks twice|brought the wrong order] and "
        "[never came back to check on us|disappeared for long stretches].",
        "The room was [noisy|cramped|cold], and [we could hardly hear each other|"
        "the table next to us was almost touching ours].",
        "{dessert} [tasted as if it came from a packet|was dry and stale], which was [a shame|a real "
        "letdown] "
        "after [such a long wait|the poor main course].",
        "The bill came to {bill} for [two|three] people, which is [far too much|hard to justify] for food "
        "of this quality.",
        "When we [mentioned the problem|complained], the manager [shrugged|offered only a free coffee] and "
        "[walked away|did not seem to care].",
        "The menu [promised|described] [fresh local produce|home cooking], but [the vegetables were clearly "
        "frozen|most of it tasted reheated].",
        "[The tables were sticky|The cutlery was not clean], and [the floor had not been swept|"
        "the toilets needed attention].",
        "My {relative} asked for a dish without [nuts|mushrooms|onions], and it still arrived with them.",
        "Our booking [had been lost|was not on the list], so we [waited at the bar for half an hour|"
        "were squeezed into a corner by the kitchen door].",
        "The portions were [tiny|mean] for the price, and [we stopped for chips on the way home|"
        "we left still hungry].",
    ),
    "pos_but": (
        "The only [thing|small thing] I would change is the [music, which was a little loud|"
        "lighting, which was a bit dim].",
        "[Parking nearby is difficult|It is a little hard to find], but it is worth the effort.",
    ),
    "neg_but": (
        "To be fair, the [bread|coffee] was [good|decent] and the room [looks lovely|is nicely decorated].",
        "{server} [did try hard|was polite], but [the kitchen let everyone down|it was clearly not enough].",
    ),
    "close_pos": (
        "We will [definitely|certainly] be back, and I would recommend {name} to anyone in {town}.",
        "[Easily|Quite simply] the best meal I have had in {town} this year.",
        "If you are ever on {street}, do yourself a favor and [book a table|stop for dinner].",
    ),
    "close_neg": (
        "We will not be going back to {name}, and I cannot recommend it.",
        "There are far better places to eat in {town}, so [save your money|look elsewhere].",
        "A [disappointing|very poor] evening that [cost far too much|we would rather forget].",
    ),
}

HOTEL: dict[str, tuple[str, ...]] = {
    "open": (
        "We stayed at {name} in {town} for {nights} during {trip}.",
        "I booked {nights} at {name} for {trip}[ with {companion}|].",
        "I chose {name} because it is [close to the station|near the old harbor|"
        "a short walk from the center of {town}].",
    ),
    "pos": (
        "The room was [spotless|bright and clean], and the bed was [one of the most comfortable I have "
        "slept in|firm but very comfortable].",
        "The staff at the front desk, especially {staff}, [were warm and helpful|went out of their way "
        "to help us].",
        "Breakfast was [excellent|generous], with [fresh bread, fruit and good coffee|eggs cooked to order "
        "and local honey].",
        "Our window [looked out over|faced] [the harbor|the river|the old town], and the view at sunset was "
        "[lovely|wonderful].",
        "[It was very quiet at night|We slept well], even though the hotel is [close to|right next to] "
        "[the main square|the station].",
        "Check-in took [two minutes|no time at all], and they let us [leave our bags early|"
        "check in an hour early].",
        "The shower was [hot and powerful|strong and hot], and there were [plenty of towels|"
        "good soaps and thick towels].",
        "The location is [ideal|perfect] for exploring {town}, with [shops and cafes|the museum and the "
        "market] "
        "[a short walk away|just around the corner].",
        "When [the heating in our room stopped working|we asked for an extra pillow], [it was fixed|"
        "the staff sorted it] within [half an hour|minutes].",
        "The [bar|lounge] downstairs is [a pleasant place|a cozy spot] to [read|relax] in the evening.",
        "For {night_price} a night, [it was excellent value|we thought it was very good value].",
        "Small touches, like [a handwritten welcome card|fresh milk for the tea tray], made the stay "
        "[feel special|memorable].",
    ),
    "neg": (
        "The room was [dusty|smaller than in the photos|tired and dated], and the bed [sagged in the middle|"
        "had a broken spring].",
        "The staff at the front desk [seemed uninterested|were rude when we asked for help] and "
        "[kept us waiting|did not answer the phone].",
        "Breakfast was [poor|a disappointment], with [cold toast and weak coffee|trays that were never "
        "refilled].",
        "Our window [faced a brick wall|looked onto the car park], [even though we had paid for a view|"
        "despite what the website promised].",
        "We [hardly|barely] slept because of [the noise from the bar below|traffic outside|the thin walls].",
        "Check-in took [forty minutes|almost an hour], and our room [was not ready|had not been cleaned] "
        "when we "
        "[finally got the key|arrived].",
        "The shower [was lukewarm at best|barely worked], and there [were no clean towels|"
        "was mold around the bath].",
        "When [the heating stopped working|the lights failed], [nobody came to fix it|"
        "we were told to wait until morning].",
        "For {night_price} a night, [it was poor value|we expected far better].",
        "Parking cost an extra {parking} a day, which [nobody had mentioned when we booked|"
        "was not mentioned on the website].",
        "The wifi [dropped out every few minutes|did not work in our room], so I [could not finish my work|"
        "had to work from a cafe].",
        "The [carpet|bathroom] [was stained|smelled damp], and [the window would not open|"
        "the curtains did not close properly].",
    ),
    "pos_but": (
        "The only [small|minor] problem was that [the lift was slow|the wifi was a little weak in our room].",
        "[Parking costs extra|The rooms at the back are small], but [that is easy to forgive|"
        "it hardly spoiled our stay].",
    ),
    "neg_but": (
        "To be fair, the location is [good|convenient] and [breakfast was decent|"
        "the receptionist on the last day was kind].",
        "The building itself is [handsome|full of character], but [it has clearly been neglected|"
        "that is not enough].",
    ),
    "close_pos": (
        "We would [happily|gladly] stay at {name} again [on our next visit to|next time we are in] {town}.",
        "[Highly recommended|I recommend it] for anyone [visiting|spending a few days in] {town}.",
        "[A lovely stay|A wonderful stay] from start to finish.",
    ),
    "close_neg": (
        "We will not be staying at {name} again.",
        "There must be better hotels in {town}, and next time we will find one.",
        "[A miserable stay|A very poor stay], and [far too expensive|not worth the money].",
    ),
}

FILM: dict[str, tuple[str, ...]] = {
    "open": (
        "I watched {title}, the new {genre} from director {director}, [at the cinema|at home|with "
        "{companion}] "
        "[last weekend|on Friday night|this week].",
        "{title} [has been getting a lot of attention|opened this month], so I [went to see it|finally saw "
        "it] "
        "[with {companion}|on my own|on Sunday].",
        "I [went into|came to] {title} knowing [very little about it|only that it was a {genre}].",
    ),
    "pos": (
        "{lead} is [superb|wonderful|outstanding] as {role}, and {lead_subj} [carries|holds] the film "
        "[with ease|from the first scene].",
        "The story [moves at a steady pace|never drags], and [the last half hour|the final scene] "
        "[is gripping|left the whole cinema silent].",
        "The music, [mostly piano|written for strings|built around a simple folk tune], "
        "[suits the mood perfectly|stays with you long after the film ends].",
        "{director_last} films {setting} with [real care|great patience], and [some shots look like "
        "paintings|every frame is beautiful].",
        "The dialogue [feels natural|is sharp and often funny], and none of the characters "
        "[feels like a cartoon|is simply good or bad].",
        "{costar} [steals every scene|is just as good] as {costar_role}, [bringing warmth and humor|"
        "adding a lot of humor] to [a dark story|the film].",
        "At [just under two hours|about ninety minutes], it [never outstays its welcome|"
        "feels exactly the right length].",
        "[I laughed out loud|I was moved to tears] [more than once|at least twice], which "
        "[rarely happens to me|does not often happen] at the cinema.",
        "The ending [is brave|is surprising but earned] and [ties the story together|"
        "made me want to watch it again].",
        "Even the [small|minor] roles are [well cast|played with care], and [the children in particular "
        "are|the supporting cast is] [excellent|very natural].",
        "It is [a rare|the kind of] {genre} that [trusts|respects] its audience and [does not explain "
        "everything|leaves room to think].",
        "[Visually|On a technical level], it is [stunning|beautifully made], [especially|above all] the "
        "scenes "
        "[on the water|in the snow|at night].",
    ),
    "neg": (
        "{lead} [looks lost|seems bored] as {role}, and {lead_subj} [never convinces|"
        "struggles with even simple scenes].",
        "The story [drags badly|moves at a crawl] in the middle, and [the last half hour|the ending] "
        "[makes very little sense|is rushed and confusing].",
        "The music is [loud|heavy-handed] and [tells you what to feel in every scene|drowns out the "
        "dialogue].",
        "The dialogue is [stiff|clumsy], and [most of the characters|the villain] [feel like cardboard "
        "cutouts|talk as if they are reading from a script].",
        "At [well over two hours|almost two and a half hours], it [feels far too long|"
        "could easily lose forty minutes].",
        "{costar} is [wasted|given nothing to do] as {costar_role}, which is [a shame|a pity] because "
        "{costar_subj} [is usually excellent|can be very good].",
        "[Several|Many] scenes are [so dark|so badly lit] that it is hard to [see who is speaking|"
        "follow what is happening].",
        "The twist [can be guessed|is obvious] [from the first ten minutes|from the trailer], so "
        "[the final scene has no impact|there is no real tension].",
        "[I checked my watch|Half the audience checked their phones] [more than once|several times], and "
        "[a couple near us left early|I nearly left halfway through].",
        "It [borrows|takes] far too much from [better films|older films] and adds [nothing new|"
        "very little of its own].",
        "The jokes [fall flat|feel forced], and [the audience barely laughed|the silence in the cinema "
        "was painful].",
        "[For all its expensive effects|Despite its large budget], it [feels cheap|looks oddly flat] and "
        "[forgettable|lifeless].",
    ),
    "pos_but": (
        "The only weak spot is [a slow opening|a subplot about a missing dog], but [it hardly matters|"
        "it is soon forgotten].",
        "[Some viewers may find the first act slow|The title is rather dull], but [stay with it|"
        "do not let that put you off].",
    ),
    "neg_but": (
        "To be fair, [the opening scene is striking|the music is lovely in places], but [it cannot save "
        "the film|that is not enough].",
        "{lead} does [try hard|the best {lead_subj} can], but the script gives {lead_obj} very little to "
        "work with.",
    ),
    "close_pos": (
        "[I would recommend it to anyone|Go and see it] [who enjoys a good {genre}|while it is still "
        "in cinemas].",
        "[Easily|Without doubt] one of the best films I have seen this year.",
        "I will be [watching it again|buying it] as soon as it [comes out|is released] at home.",
    ),
    "close_neg": (
        "I cannot recommend {title}, [even to fans of {director_last}|and I would not watch it again].",
        "[Skip it|Save your money] and [wait for it to appear on television|watch something else instead].",
        "[A dull|A tiresome] evening, and [a waste of a good cast|two hours I will not get back].",
    ),
}

APP: dict[str, tuple[str, ...]] = {
    "open": (
        "I [downloaded|installed] {app} [last month|a few weeks ago] to help me {purpose}.",
        "I have used {app} for {duration} to {purpose} [on my phone|on my tablet].",
        "A colleague suggested {app}, so I tried it to {purpose}.",
    ),
    "pos": (
        "The layout is [clean|simple] and [easy to understand|uncluttered], so I [found everything|"
        "found my way around] [within minutes|straight away].",
        "[It opens quickly|It loads in a second] and has [never crashed|not crashed once] in {duration} "
        "of daily use.",
        "Reminders arrive at [just the right time|the times I choose] and are [easy to snooze|never "
        "annoying].",
        "It [barely touches|uses very little of] my battery, even when it runs [in the background|all day].",
        "The free version [does almost everything I need|is generous], and the paid plan at {sub} is "
        "[fair|good value].",
        "When I reported a [small bug|problem with syncing], the developers [fixed it in the next update|"
        "replied within a day].",
        "[Syncing|Moving my data] between my phone and laptop [works without any fuss|is seamless].",
        "The [charts|weekly summaries] are [clear|genuinely useful] and [have changed my habits|"
        "helped me stay on track].",
        "It works [offline|without a signal], which is [handy|very useful] [on the train|in the "
        "countryside].",
        "Updates arrive every few weeks and add [useful features|small improvements] without breaking "
        "[anything|what already works].",
        "There are [no adverts|no pop-ups], and it does not ask for [more data than it needs|"
        "my contacts or location].",
        "[Setting it up|Getting started] took [less than five minutes|a couple of minutes], and "
        "[the short guide|the tutorial] [was clear|explained everything].",
    ),
    "neg": (
        "The layout is [cluttered|confusing], and [basic settings|simple options] are [hidden|buried] "
        "[three menus deep|behind several screens].",
        "It [crashes|freezes] [almost every time I open it|several times a week], and [I have lost data "
        "twice|"
        "I often have to restart my phone].",
        "Reminders [arrive hours late|often do not arrive at all], and [they ignore the times I set|"
        "then come in bunches].",
        "It [drains|eats] my battery, even when [I am not using it|it should be asleep].",
        "Almost every useful feature is locked behind a subscription of {sub}, which [feels greedy|"
        "is far too much].",
        "When I reported [a bug|a problem with syncing], [nobody replied|I got an automatic reply and "
        "nothing else].",
        "Syncing between my phone and laptop [fails|breaks] [every few days|regularly], [leaving me with two "
        "different lists|so I no longer trust it].",
        "There are [adverts on every screen|pop-ups every few minutes], even after I paid for the premium "
        "plan.",
        "It [asks for|wants] access to [my contacts and location|my photos and microphone] for "
        "[no clear reason|reasons it never explains].",
        "The latest update [removed|broke] [the feature I used most|the export button], and "
        "[it has not come back|there is no sign of a fix].",
        "It [will not work|stops working] [offline|without a signal], which makes it [useless|"
        "very frustrating] on the train.",
        "Signing in fails about half the time and [sends me back to the start|asks for codes that never "
        "arrive].",
    ),
    "pos_but": (
        "The only [thing I miss|gap] is [a dark mode|a way to export my data], but [the developers say it "
        "is coming|I can live without it].",
        "[The icons are a little small|The yearly plan costs a bit more than I would like], but "
        "[that is a small price to pay|it is easy to overlook].",
    ),
    "neg_but": (
        "To be fair, [it looks nice|the colors are pleasant] and [the idea is good|setting it up was easy].",
        "The [weekly charts|reminders] could be useful, but [only when the app actually works|"
        "they rarely work as they should].",
    ),
    "close_pos": (
        "I recommend {app} to anyone who wants to {purpose}.",
        "It has earned its place on my home screen.",
        "[Five stars|Full marks], and [well worth the subscription|I will keep paying for it].",
    ),
    "close_neg": (
        "I have [deleted|uninstalled] {app} and [gone back to pen and paper|found a better app].",
        "Avoid it until the developers [fix the basics|sort out these problems].",
        "[One star|Two stars at most], and [only because I cannot give zero|that is generous].",
    ),
}

FILM_ROLES = (
    "a tired police officer",
    "a young teacher",
    "a retired sailor",
    "a lighthouse keeper",
    "a country doctor",
    "a struggling musician",
    "a widowed farmer",
    "a nervous bank clerk",
)
COSTAR_ROLES = ("the neighbor", "the lodger", "the old friend", "the detective", "the night porter")
SETTINGS = (
    "the coast",
    "a small town in winter",
    "the city at night",
    "the hills in autumn",
    "an empty harbor",
)


def _common(rng: random.Random, cast: world.Cast) -> dict[str, Any]:
    relative, refl, _ = rng.choice(world.RELATIVES)
    return {
        "duration": DURATIONS,
        "short_duration": SHORT_DURATIONS,
        "relative": relative,
        "rel_refl": refl,
        "price": world.price(rng),
        "town": rng.choice(world.TOWNS),
        "companion": COMPANIONS,
    }


def _product(rng: random.Random, cast: world.Cast) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    """A household product; soft goods (bags, jackets) skip remarks marked "H:" (hard goods only)."""
    kind = rng.choice(world.PRODUCT_KINDS)
    ctx = _common(rng, cast)
    ctx.update(
        kind=kind.name,
        brand=rng.choice(world.BRANDS),
        part=kind.parts,
        use=kind.uses,
        failure=kind.failures,
    )
    if kind.soft:
        pack = {
            key: tuple(t for t in templates if not t.startswith("H:")) for key, templates in PRODUCT.items()
        }
        return pack, ctx
    return PRODUCT, ctx


def _restaurant(rng: random.Random, cast: world.Cast) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    ctx = _common(rng, cast)
    dish_a, dish_b = pick(rng, world.DISHES, 2)
    ctx.update(
        name=rng.choice(world.RESTAURANT_NAMES),
        street=rng.choice(world.STREETS),
        dish_a=dish_a,
        dish_b=dish_b,
        dessert=rng.choice(world.DESSERTS),
        server=cast.person().first,
        bill=f"${rng.randint(6, 30) * 5}",
        occasion=("my birthday", "our anniversary", "a work leaving party", "my mother's retirement"),
    )
    return RESTAURANT, ctx


def _hotel(rng: random.Random, cast: world.Cast) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    ctx = _common(rng, cast)
    ctx.update(
        name=rng.choice(world.HOTEL_NAMES),
        nights=rng.choice(("two nights", "three nights", "a week", "four nights", "one night")),
        trip=("a weekend break", "a work trip", "a family wedding", "a walking holiday"),
        staff=cast.person().first,
        night_price=f"${rng.randint(14, 48) * 5}",
        parking=f"${rng.randint(8, 25)}",
    )
    return HOTEL, ctx


def _film(rng: random.Random, cast: world.Cast) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    ctx = _common(rng, cast)
    director, lead, costar = cast.person(), cast.person(), cast.person()
    ctx.update(
        title=rng.choice(world.FILM_TITLES),
        genre=rng.choice(world.FILM_GENRES),
        director=director.full,
        director_last=director.last,
        lead=lead.full,
        lead_subj=lead.subj,
        lead_obj=lead.obj,
        role=rng.choice(FILM_ROLES),
        costar=costar.full,
        costar_subj=costar.subj,
        costar_role=rng.choice(COSTAR_ROLES),
        setting=rng.choice(SETTINGS),
    )
    return FILM, ctx


def _app(rng: random.Random, cast: world.Cast) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    ctx = _common(rng, cast)
    name, purpose = rng.choice(world.APP_NAMES)
    ctx.update(app=name, purpose=purpose, sub=f"${rng.randint(2, 9)} a month")
    return APP, ctx


DOMAINS = (_product, _restaurant, _hotel, _film, _app)


def review_draft(rng: random.Random, positive: bool | None = None) -> Draft:
    """Write one review as a :class:`Draft` whose body can be cut to length.

    Args:
        rng: the random generator.
        positive: the polarity; random when None.

    Returns:
        The draft: an opening line, remarks in random order (with perhaps one concession),
        and a verdict.
    """
    cast = world.Cast(rng)
    pack, ctx = rng.choice(DOMAINS)(rng, cast)
    if positive is None:
        positive = rng.random() < 0.5
    pol = "pos" if positive else "neg"
    shared = SHARED_POS if positive else SHARED_NEG
    remarks = shuffled(rng, pack[pol])
    extra = shuffled(rng, shared)
    body_t = remarks[:4] + extra[:1] + remarks[4:] + extra[1:]
    if rng.random() < 0.6:
        body_t.insert(rng.randint(2, 5), rng.choice(pack[f"{pol}_but"]))
    return Draft(
        head=[sentence(rng, rng.choice(pack["open"]), ctx)],
        body=[sentence(rng, t.removeprefix("H:"), ctx) for t in body_t],
        tail=[sentence(rng, rng.choice(pack[f"close_{pol}"]), ctx)],
    )
