"""News and report articles about the invented towns, for the summarization workload.

Ten kinds of story (a bridge reopening, a new public building, a storm, a festival, a new
factory, a council budget, a research study, a cup final, a new transport link, a company's
quarterly results). Each kind has its own lead sentences, details, quotes, background and next
steps; most also draw on shared sentences about the town, and stories about a public project
on shared reactions from residents and the council's next steps. Articles are ordered like real
news (most important first), so cutting the end keeps a coherent story.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from . import world
from .draft import Draft
from .engine import pick, sentence, shuffled, thousands


def ordinal(n: int) -> str:
    """Write an ordinal number: 1st, 2nd, 3rd, 11th, 23rd.

    Args:
        n: a positive integer.

    Returns:
        The ordinal.
    """
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class Pack:
    """The sentence templates of one kind of story."""

    lead: tuple[str, ...]
    details: tuple[str, ...]
    quotes: tuple[str, ...]
    background: tuple[str, ...]
    next_steps: tuple[str, ...]
    first: tuple[str, ...] = ()
    town: bool = True
    reactions: bool = True


TOWN_BACKGROUND = (
    "{town}, a [market town|small town|busy town] of about {population} people in {region}, "
    "[has grown steadily|has changed a great deal] over the past [twenty|thirty] years.",
    "The town is best known for {known_for}, which [draws visitors from across the region|"
    "brings in tourists every summer].",
    "{town} was first recorded as a settlement in {founded}, when [a handful of farming families|"
    "fishermen and their families] settled [on the banks of the {river}|near the mouth of the {river}].",
    "[In recent years|Over the last decade], the council has [spent heavily on|focused on] "
    "[roads and schools|housing and public transport], [with mixed results|with some success].",
    "Like many towns in {region}, {town} lost [much of its industry|its largest employers] in the "
    "[1980s|1990s], and [it has worked hard to attract new businesses since|unemployment stayed high "
    "for years].",
)

WIDER = (
    "The news comes [at a busy time|during a difficult year] for {town}, where [plans for a new housing "
    "estate have|the closure of a hospital ward has] [dominated local debate|caused concern] for months.",
    "Elsewhere in {region}, [similar projects|other towns] have [had mixed fortunes|struggled with rising "
    "costs].",
    "Local elections are due in {month2}, and [the issue is likely to feature in the campaign|candidates "
    "have already mentioned it].",
    "Official figures show that [the population of {town} has grown|house prices in {town} have risen] by "
    "about {pct2} percent since {year2}.",
    "The town's [weekly market|high street] has [seen more visitors|had something of a revival] this year, "
    "according to the chamber of commerce.",
)

REACTIONS = (
    '"[We have waited a long time for this|This makes a real difference to families like mine|'
    'It is the best news the town has had in years]," said {res1}, [a retired teacher|a mother of two|'
    "who runs a cafe on {street}|who has lived in {town} all {res1_poss} life].",
    "Not everyone is [pleased|convinced], however.",
    "{res2}, [a local shop owner|a farmer from outside the town|a member of the civic society], "
    "[said|argued] that the money could have been [better spent|spent] on [repairing roads|"
    "the town's schools|cheaper housing].",
    '"[I will believe it when I see the results|We will have to wait and see whether it works]," '
    "{res2_last} added.",
    "Several residents [who spoke to this paper|we spoke to] said they [welcomed the news|were glad] but "
    "[worried about the cost|wanted more details].",
    "On social media, [opinion was divided|reaction was mostly positive], with [some users|many people] "
    "[sharing photographs|posting messages of support].",
)

COUNCIL_NEXT = (
    "The council will [discuss|review] [the project|progress] at its next meeting on {weekday2} "
    "{day} {month2}.",
    "Mayor {mayor} said the council would [publish|share] [a full report|more details] "
    "[in the coming weeks|later this year].",
    "Residents can [send their views|comment] [through the council website|at the town hall] until "
    "the end of {month2}.",
    "[A public meeting|An open evening] will be held at {venue} on {weekday2} evening for anyone who "
    "wants to [ask questions|find out more].",
)

VENUES = ("the town hall", "the library", "the community center", "the Corn Exchange", "the church hall")

BRIDGE = Pack(
    lead=(
        "The {bridge} in {town} reopened to traffic on {weekday} after {months_closed} of repairs that cost "
        "{cost}.",
        "Drivers in {town} can once again cross the {river} by the {bridge}, which reopened on {weekday} "
        "after {months_closed} of work.",
    ),
    details=(
        "The bridge was closed [last|the previous] {month} after engineers found [deep cracks in two of "
        "its arches|serious rust in its steel frame].",
        "Work was carried out by {contractor}, which [replaced the deck|strengthened the arches|"
        "rebuilt the foundations] and [laid a new road surface|added a wider footpath].",
        "The new design includes [a separate cycle lane|wider footpaths on both sides|new lighting along "
        "its full length].",
        "About {vehicles} vehicles used the bridge every day before it closed, and many drivers "
        "[faced a detour of up to twenty minutes|had to use the ring road instead].",
        "The project [ran|finished] [three months late|two months behind schedule], [partly because of "
        "flooding|after problems with the supply of steel|after a very wet winter].",
        "{engineer}, the engineer in charge of the work, said the bridge should now last "
        "[another hundred years|well into the next century].",
        "Weight limits [have been lifted|have been raised], [allowing buses to use the route again|"
        "so delivery lorries no longer need to use the ring road].",
        "Traders on both sides of the river said the closure had [cut their takings|kept customers away] "
        "for most of the year.",
        "Bus routes {bus1} and {bus2} will return to their normal timetables from [next Monday|"
        "the start of next month].",
        "[Divers|Specialist divers] [checked|inspected] the [piers|foundations] below the waterline "
        "before the work began, a job that took [three weeks|a month].",
        "During the closure, a temporary footbridge carried [pedestrians and cyclists|people on foot] across "
        "the river, but [it closed at night|it was often crowded at rush hour].",
        "Some of the original stonework was [cleaned and reused|carefully numbered and put back in place] "
        "after pressure from the [civic society|local heritage group].",
        "[Workers|The crews] worked [through the night|in shifts] during the final weeks to [finish on time|"
        "meet the deadline].",
    ),
    quotes=(
        '"[This is a proud day for {town}|We are delighted to see the bridge open again]," said Mayor '
        '{mayor}. "[I want to thank everyone for their patience|Residents have been very patient, and I '
        'thank them for it]."',
        '"The old structure was [in a worse state than anyone expected|weaker than we thought], and we had '
        'no choice but to [close it|act]," said {engineer}.',
    ),
    background=(
        "The bridge first opened in {built_year} and is [one of the oldest river crossings in {region}|"
        "listed as a building of historic interest].",
        "The work was [paid for|funded] [largely|mostly] by [a government grant|the regional transport "
        "fund], "
        "with the council adding {council_share}.",
    ),
    next_steps=(
        "A [small ceremony|formal opening] is planned for [next month|the spring], when [a plaque will be "
        "unveiled|local schoolchildren will be invited to walk across].",
        "The council says it will [inspect the bridge every six months|carry out regular checks] from now "
        "on.",
    ),
)

FACILITY = Pack(
    lead=(
        "A new {facility} opened on {street} in {town} on {weekday}, [two years after the old one closed|"
        "replacing a building that had stood empty for years].",
        "{town}'s new {facility} welcomed its first visitors on {weekday}, [with a queue stretching down "
        "{street}|after three years of planning and building].",
    ),
    details=(
        "The building has [two|three] floors and includes {feature_a}, {feature_b} and {feature_c}.",
        "It was designed by {architect}, an architect based in {town2} who [grew up in {town}|has worked "
        "on several public buildings in {region}].",
        "The {facility} cost {cost} to build, [most of which came from|with a large share coming from] "
        "[a national lottery grant|the sale of the old site|a gift from a local family].",
        "It will open [seven|six] days a week, from [nine|ten] in the morning until [eight|seven] in the "
        "evening.",
        "[Solar panels on the roof|A heat pump in the basement] will [supply much of its energy|keep "
        "running costs down].",
        "More than {visitors} people [came through the doors|visited] on the first day, according to staff.",
        "[Local schools|Three primary schools] have already booked [weekly visits|regular sessions] for "
        "their pupils.",
        "[Staff|Volunteers] will run [free classes|weekly sessions] in [computer skills|English and maths|"
        "local history] for adults.",
        "The building is [fully accessible|step-free throughout], with [a lift to every floor|wide doors "
        "and ramps].",
        "A [mural|large painting] by local artist {artist} [covers|fills] the wall [of the entrance hall|"
        "beside the main stairs].",
        "The design was chosen [in a public vote|after a competition] that drew [more than {entries} "
        "entries|entries from across the country].",
        "Tall windows [face the park|look out over {street}] and [fill the reading rooms with light|keep the "
        "building bright all day].",
        "Old maps and photographs of {town} [are on display|hang] [in the entrance hall|along the main "
        "corridor].",
        "Membership is free for everyone who lives or works in {town}.",
    ),
    quotes=(
        '"[This building belongs to everyone in {town}|We wanted a place where everyone feels welcome]," '
        "said {manager}, the {facility}'s manager.",
        '"[We were first in the queue this morning|My children have talked about nothing else all week]," '
        'said {res3}, who lives nearby. "[It is a wonderful place|It feels like it was built for us]."',
    ),
    background=(
        "The old {facility} on {street2} closed in {closed_year} after [its roof began to leak|it failed a "
        "fire safety check].",
        "[For two years|Since then], [services were run from|residents had to make do with] "
        "[a temporary cabin|two rooms above a shop] on {street2}.",
    ),
    next_steps=(
        "An official opening [with music and speeches|with a ribbon cutting] will take place on {weekday2} "
        "{day} {month2}.",
        "The council hopes the {facility} will [attract|draw] about {annual} visits a year.",
    ),
)

STORM = Pack(
    lead=(
        "Strong winds and heavy rain [caused damage across|battered] {town} on {weekday} night as {storm} "
        "[moved|swept] across {region}.",
        "{storm} brought [flooding|fallen trees] and power cuts to {town} on {weekday}, with [some homes "
        "still without electricity|several roads still closed] the following day.",
    ),
    details=(
        "Gusts of up to {wind} miles per hour were recorded [on the seafront|at the weather station on "
        "the hill|at the harbor].",
        "About {homes} homes lost power [overnight|for several hours], and some were [still waiting for it "
        "to return|not reconnected until the next afternoon].",
        "The {river} [burst its banks|rose over its banks] [near the old mill|by the football ground|along "
        "{street}], flooding [gardens and cellars|several streets|a car park].",
        "Fallen trees blocked [{street}|the road to {town2}] [for much of the morning|until council crews "
        "cleared them].",
        "[Firefighters|Emergency crews] were called to more than {calls} incidents, most of them involving "
        "[fallen trees|flooded homes].",
        "[Schools|Two primary schools] [stayed closed|were closed] on {weekday2} [because of damage to "
        "their roofs|as a precaution].",
        "[Train services|Ferries] between {town} and {town2} were [cancelled|suspended] [for the day|"
        "until the wind dropped].",
        "[Almost|More than] {rain} millimeters of rain fell in a single day, [more than the usual amount "
        "for the whole month|almost twice the monthly average].",
        "[No one was seriously hurt|Two people were treated for minor injuries], according to "
        "[the police|the ambulance service].",
        "A [large|tall] [tree|chimney] [fell onto a parked car|crashed through the roof of a garage] on "
        "{street2}[, but no one was inside|].",
        "The roof of the [sports hall|old chapel] was [partly torn off|badly damaged], and the building "
        "is closed until further notice.",
        "[Neighbors|Volunteers] spent the morning clearing [fallen branches|mud and debris] from [gardens|"
        "the streets], while a local bakery handed out free [tea|coffee and rolls].",
        "Insurers said they were expecting [hundreds of|a large number of] claims from the area.",
        "The council handed out sandbags at the fire station [on {weekday} afternoon|before the storm "
        "arrived], and [they ran out within an hour|residents queued in the rain to collect them].",
        "Part of the sea wall was [damaged|battered] by waves, and [several small boats|two fishing boats] "
        "[broke free from their moorings|were swept onto the shingle].",
    ),
    quotes=(
        '"[I have lived here for forty years and never seen anything like it|The water came up so fast '
        'that we had no time to move the furniture]," said {res3}, whose home is on {street}.',
        '"[Storms this strong are unusual so early in the season|The ground was already wet, which made '
        'the flooding worse]," said {forecaster}, a forecaster at the regional weather office.',
    ),
    background=(
        "It is the [second|third] storm to hit {region} this [winter|autumn], and [the ground was already "
        "soaked|rivers were already high] before it arrived.",
        "[Flood barriers|New flood walls] [built|put up] along the {river} in {barrier_year} [protected|"
        "kept dry] [the town center|most of the homes near the river].",
    ),
    next_steps=(
        "The council has opened [the town hall|a school hall] as a rest center for [families who cannot "
        "return home|anyone who needs a warm place].",
        "Forecasters expect [calmer|drier] weather [by the weekend|from {weekday2}], although [more rain "
        "is likely next week|rivers will stay high for several days].",
        "Residents are asked to report [fallen power lines|blocked drains] to the council and to stay "
        "away from the river.",
    ),
    reactions=False,
)

FESTIVAL = Pack(
    lead=(
        "[Thousands of|Crowds of] visitors [filled the streets of|came to] {town} on {weekday} for the "
        "{festival}, [now in its {nth} year|which returned after a two-year break].",
        "The {festival} [drew|brought] [record crowds|thousands of people] to {town} on {weekday}, "
        "[despite|in spite of] [grey skies|a cold wind] in the morning.",
    ),
    details=(
        "The highlight of the day was {attraction}, which [drew the biggest crowd|ran late into the "
        "evening].",
        "Organizers [estimate|believe] that about {visitors} people attended, [a record for the event|"
        "slightly more than last year].",
        "More than {stalls} stalls [sold|offered] [local food, crafts and plants|cheese, bread and cider] "
        "along {street}.",
        "[Several|Six] bands [played|performed] on a stage in the [market square|park], ending with "
        "[a set by a local choir|a fireworks display].",
        "Roads in the town center were closed from early morning [until late evening|until midnight], and "
        "[extra buses|shuttle buses] ran from the station.",
        "[Volunteers|Dozens of volunteers] [spent weeks|worked for months] [preparing for the day|building "
        "the stage and the stalls].",
        "[Children|Local schoolchildren] [took part in|led] a parade [from the station to the park|along the "
        "river], [dressed in costumes they had made|carrying banners they had painted].",
        "The event raised {raised} for {charity}, according to the organizers.",
        "Cafes and pubs [reported|said they had] one of their busiest days of the year.",
        "The weather [stayed dry|was bright and mild], and [a short shower|a cold wind] late in the day "
        "[did not keep people away|sent only a few visitors home early].",
        "[A local brass band|The school orchestra] opened the day with [a march through the market square|"
        "a short concert at ten o'clock].",
        "The prize for the best decorated shop window went to {winner}, who runs [a florist|a bakery] on "
        "{street2}.",
        "Police said the day had passed [peacefully|without any serious incidents], although traffic was "
        "heavy [on the roads into town|near the station].",
        "Volunteers [collected|cleared] [more than|almost] [two tonnes of rubbish|four hundred bags of "
        "rubbish] after the festival.",
    ),
    quotes=(
        '"[It has been a wonderful day|We could not have asked for more]," said {organizer}, who [chairs|'
        'leads] the festival committee. "[The whole town came together|Everyone pitched in]."',
        '"[We come every year|We drove two hours to be here]," said {res3}, who had traveled from {town2}. '
        '"[There is nothing else like it|The children love it]."',
    ),
    background=(
        "The festival was first held in {first_year}, when [a group of neighbors|the local school] "
        "[organized it|put it on] to raise money for [a new church roof|a playground].",
        "It has grown [from a single afternoon|from a few stalls] into [a full weekend|one of the largest "
        "events in {region}].",
    ),
    next_steps=(
        "Planning for next year's festival will begin [in the autumn|after the summer], and organizers "
        "are looking for new volunteers.",
        "Lost property can be collected from the town hall until {weekday2}.",
    ),
    reactions=False,
)

FACTORY = Pack(
    lead=(
        "{company}, {company_desc}, [will open|plans to open] a new [factory|production site] [in|on the "
        "edge of] {town}, [creating|bringing] about {jobs} jobs.",
        "About {jobs} jobs are coming to {town} after {company} [chose|picked] the town for its new "
        "[factory|production site].",
    ),
    details=(
        "The site, on [the former airfield|the grounds of the old paper mill|an industrial estate] "
        "[north|east|west|south] of the town, will make {products}.",
        "The company [plans to invest|will invest] {investment} over the next [three|five] years.",
        "Building work is due to begin in {month2}, and the first goods should leave the site "
        "[early next year|within eighteen months].",
        "[Most of|Around half of] the new jobs will be in [production and maintenance|engineering and "
        "logistics], and [many|some] will be open to school leavers.",
        "{company} already employs about {staff_now} people at [its head office|two sites] in {town2}.",
        "{ceo}, the chief executive, said the company chose {town} because of [its rail links|its skilled "
        "workforce|the space available].",
        "An apprenticeship scheme run with {town} College will [offer|provide] [forty|sixty] places a year.",
        "Pay for most roles will start [above|well above] the regional average, according to the company.",
        "The site will [run on|use] [electricity from its own solar panels|heat from a nearby biomass "
        "plant], the company says.",
        "Lorries will reach the site [by a new road|from the ring road], so they will not need to pass "
        "through the town center.",
        "The company says it will [plant trees around the site|keep noise to a minimum at night|use local "
        "builders where possible].",
        "The land has stood empty for [more than a decade|many years] and is [owned by the council|used for "
        "a car boot sale on Sundays].",
        "Parents at a nearby primary school [have asked for|want] [a safe crossing|a lower speed limit] on "
        "the road outside.",
    ),
    quotes=(
        '"[This is the biggest investment in {town} for a generation|This is wonderful news for young '
        'people in {town}]," said Mayor {mayor}.',
        '"We [looked at|considered] [several|a dozen] sites, and {town} [stood out|was the clear choice]," '
        "said {ceo}.",
    ),
    background=(
        "Unemployment in {town} has been [above|well above] the national average since the closure of the "
        "[steelworks|shipyard] in {closure_year}.",
        "Some residents [have raised concerns about|worry about] [extra traffic|heavy lorries] on the roads "
        "near the site.",
        "[Planning permission|Final approval] still has to be granted by the council, which will "
        "[decide|vote] in {month2}.",
    ),
    next_steps=(
        "The company will hold [a jobs fair|an open day] at {venue} [in|during] {month2} for people "
        "interested in working at the site.",
        "[Details of the first jobs|The first job adverts] will be [posted|published] on the company's "
        "website [in the spring|later this year].",
    ),
)

BUDGET = Pack(
    lead=(
        "{town} Council [has approved|voted through] its budget for next year, [including|with] a {tax} "
        "percent rise in local tax.",
        "Households in {town} will pay more in local tax next year after councillors [approved|agreed] a "
        "{tax} percent rise.",
    ),
    details=(
        "The budget, worth {budget} in total, was passed by {yes} votes to {no} at a [long|heated] meeting "
        "on {weekday} evening.",
        "The biggest [share|part] of the money will go to [care for older people|schools and children's "
        "services], which will [receive|get] {share}.",
        "[Road repairs|Street lighting|Parks and libraries] will [receive|get] an extra {extra}, "
        "[after many complaints from residents|following a survey of residents].",
        "To [balance the books|save money], the council will [cut|reduce] [opening hours at two "
        "libraries|grants to local sports clubs|spending on office space].",
        "[A typical household|The average home] will pay about {per_home} more a year [as a result|"
        "from April].",
        "Council leader {leader} said the rise was [needed|necessary] because [costs had risen faster than "
        "income|government funding had fallen].",
        "Opposition councillors [argued|said] that the council [could have sold unused buildings|should "
        "have cut its own spending] [instead|first].",
        "[Members of the public|Residents] filled the public gallery, and [several|some] [asked questions|"
        "spoke] before the vote.",
        "[Parking charges will also rise, by fifty cents an hour|Fees for collecting garden waste will "
        "also rise, by a dollar a week].",
        "The council [has|now has] {reserves} in reserve, [which it says must not fall further|down from "
        "last year].",
        "Spending on [bin collections|street cleaning] will stay the same as last year, despite rising fuel "
        "costs.",
        "[Two|Three] [public toilets|car parks] are set to close, which will save about {saving} a year.",
        "The council's chief finance officer, {finance}, warned that [next year would be even "
        "harder|reserves "
        "could run out within four years].",
    ),
    quotes=(
        '"[No one likes to raise taxes|This was not an easy decision], but we had to protect [the services '
        'people rely on|care for the most vulnerable]," said {leader}.',
        '"[Residents are being asked to pay more for less|This budget takes the easy way out]," said '
        "councillor {opposition}.",
    ),
    background=(
        "It is the [third|fourth] year in a row that the council has raised local tax by more than "
        "[two|three] percent.",
        "The council [employs|has] about {council_staff} staff and [runs|is responsible for] [schools, "
        "roads and waste collection|most public services in the town].",
    ),
    next_steps=(
        "The new rates [will take effect|come into force] in April, and bills will be sent out in March.",
        "The council plans to [review|look again at] [library opening hours|sports grants] [next year|"
        "in the autumn].",
    ),
)

STUDY = Pack(
    lead=(
        "[Researchers|Scientists] at the University of {town} have found that {result}, according to a "
        "study published this week in {journal}.",
        "A new study by [researchers|scientists] at the University of {town} suggests that {result}.",
    ),
    first=(
        "The team, led by {lead_title} {lead}, studied {subject} by {method}.",
        "They found that {finding}.",
    ),
    details=(
        "The researchers believe the main reason is {cause}.",
        "The study took [three|four|five] years and was funded by {funder}.",
        "Earlier studies had [suggested|hinted at] a link, but [they were much smaller|none had followed "
        "the same sites for so long].",
        "The results held even after the team [took account of|allowed for] other factors, such as "
        "[the weather|the time of year].",
        "{lead_last} [said|stressed] that the [findings|results] [do not prove cause and effect|need to be "
        "confirmed in other places].",
        "The team [worked with|was helped by] [volunteers|local farmers|several schools] who "
        "[collected samples|kept careful records] [every week|each month].",
        "Altogether, the researchers [gathered|collected] more than {records} [measurements|records].",
        "The paper [notes|admits] that [the study covered only one region|some records were incomplete], "
        "which limits what can be [said|concluded].",
        "The project began with [a question asked by a group of schoolchildren|a conversation with a local "
        "farmer|a letter from a retired teacher].",
        "Much of the fieldwork was carried out [in the early morning|at night|during school holidays].",
        "Similar studies in other countries have found [smaller|similar] effects, according to the authors.",
    ),
    quotes=(
        '"[We were surprised by how large the effect was|The size of the change surprised us]," {lead_title} '
        '{lead_last} said. "[It suggests that small changes can make a big difference|It gives us real '
        'reason for hope]."',
        "{expert}, [an ecologist|a scientist] at the University of {town2} who was not involved in the "
        "study, [called it|described it as] [a careful and important piece of work|a useful step forward].",
    ),
    background=(
        "The study [has been welcomed|was welcomed] by {group}, which has long [argued|campaigned] for "
        "more research in this area.",
        "[Data|The full data] from the study [will be made|has been made] [freely available|public] for "
        "other researchers.",
    ),
    next_steps=(
        "The next stage will [extend the work to|repeat the study in] [other regions|three other countries].",
        "[A summary of the findings|The results] will be presented to [the regional council|government "
        "advisers] [in the autumn|next month].",
        "[Funding|Money] for a [follow-up|second] study has already been [secured|promised] by {funder}.",
    ),
    town=False,
    reactions=False,
)

CUP = Pack(
    lead=(
        "{team} won {competition} on {weekday}, beating {opponent} {score} in front of {crowd} supporters "
        "at {ground}.",
        "{team} are [cup winners|champions] for the first time since {last_win} after a {score} win over "
        "{opponent} in {competition} on {weekday}.",
    ),
    first=(
        "{scorer1} [opened the scoring|put {team} ahead] in the {min1} minute [with a low shot|with a "
        "header from a corner].",
        "{opponent} [drew level|equalized] [just before half-time|early in the second half] through "
        "{opp_scorer}.",
        "The winning goal came [with ten minutes left|in the final minute], when {scorer2} [curled a free "
        "kick into the top corner|scored from close range].",
    ),
    details=(
        "Goalkeeper {keeper} [made several fine saves|kept {team} in the game] [in the first half|late on].",
        "Tickets for the final [sold out|ran out] within [two days|a week], and a screen was put up in the "
        "[market square|town park] for those who could not get in.",
        "Manager {manager}, who [took charge|joined the club] [two years ago|in {mgr_year}], [praised|"
        "thanked] [the supporters|the whole squad].",
        "{team} finished [third|fourth] in the league last season, while {opponent} [were the favorites|"
        "had beaten them twice this year].",
        "The captain, {captain}, lifted the trophy [to a huge roar|as fireworks went off] behind the goal.",
        "Both teams [had chances|missed chances] in [a lively|an open] first half, and {opponent} "
        "[hit the post|had a goal ruled out for offside].",
        "About {away_fans} fans made the journey from {opp_town} to support their team.",
        "The referee, {referee}, [showed|handed out] [four|five] yellow cards in a tense second half.",
    ),
    quotes=(
        '"[I am so proud of this group of players|This is for everyone who has supported the club through '
        'the hard years]," said {manager}.',
        '"[We gave everything|We never stopped believing]," said captain {captain}. "[This is the best day '
        "of my "
        'life|The fans deserve this]."',
    ),
    background=(
        "The club was founded in {club_year} [by workers at the local mill|by a group of railway workers] "
        "and has played at {ground} since {ground_year}.",
        "It is the club's first trophy since {last_win}, when [many of the current players were not yet "
        "born|the team played in the old county league].",
        "Money from the cup run will [help pay for|go towards] [a new stand|floodlights|the youth team].",
    ),
    next_steps=(
        "The players will parade the trophy through {town} on an open-top bus on {weekday2}.",
        "{team} [return to|resume] league action [next week|on {weekday2} week] with [a home game against "
        "{opponent2}|a trip to {opponent2}].",
    ),
    reactions=False,
)

TRANSIT = Pack(
    lead=(
        "A new [bus|train] service linking {town} and {town2} began running on {weekday}, cutting the "
        "journey to [{minutes} minutes|under {minutes} minutes].",
        "Passengers between {town} and {town2} [have|now have] a direct [bus|train] service for the first "
        "time in decades after the new route opened on {weekday}.",
    ),
    details=(
        "Services will run every [fifteen|twenty|thirty] minutes [during the day|on weekdays] and every "
        "hour in the evening.",
        "A single fare costs {fare}, and [children under twelve travel free|a monthly pass costs {pass}].",
        "[Before the new service|Until now], passengers had to change at {town3} and the journey could "
        "take more than an hour.",
        "The route [stops|calls] at [four|five|six] new stops, including [one outside the hospital|one by "
        "the college|one at the retail park].",
        "The route [cost|was built for] {cost}, [shared between|paid for by] [the council and the "
        "regional transport authority|the government and two councils].",
        "The [new buses|trains] are [electric|battery powered] and [can carry|carry] up to {capacity} "
        "passengers.",
        "Bicycles can be carried free of charge [outside rush hour|at quiet times].",
        "Contactless payment is accepted at every stop, and [paper tickets|single tickets] can still be "
        "bought [on board|from the driver].",
        "About {riders} people used the service on its first day, according to the operator, {operator}.",
        "A new car park with {spaces} spaces has been built next to the {town} stop.",
        "[Some drivers|A few residents] [complained about|were unhappy about] the loss of [parking spaces|"
        "a traffic lane] on {street}.",
        "New shelters with [live departure screens|timetables and seating] have been put up at every stop.",
        "The operator has taken on {drivers} new drivers, most of them from the local area.",
    ),
    quotes=(
        '"[This will change how people in {town} get to work|For the first time, young people here can '
        'reach college without a car]," said {official}, head of transport at the council.',
        '"[It used to take me an hour and a half each way|I used to spend forty dollars a week on fuel]," '
        'said {res3}, who commutes to {town2}. "[Now I can read on the way|This has given me back my '
        'evenings]."',
    ),
    background=(
        "The old railway between the towns closed in {closed_year}, and [campaigners|a local group] had "
        "[pressed|campaigned] for a new link ever since.",
        "[Traffic on the main road|Congestion at the {town2} roundabout] has [grown|worsened] steadily "
        "[over the past decade|in recent years].",
    ),
    next_steps=(
        "[Evening|Sunday] services will be added [from the summer|later in the year] if [passenger numbers "
        "are high enough|demand is strong].",
        "The operator will [review|publish] [passenger numbers|the timetable] after [six|three] months.",
    ),
)

RESULTS = Pack(
    lead=(
        "{company}, {company_desc}, [reported|announced] [a rise|an increase] in profit for the {quarter} "
        "quarter, helped by strong demand for {products}.",
        "Profits at {company} [rose|climbed] in the {quarter} quarter as [sales|demand] [grew|picked up] "
        "[at home and abroad|across all its markets].",
    ),
    details=(
        "Revenue rose {pct} percent to {revenue} in the three months to the end of {month}, "
        "[compared with|up from] {revenue_prev} a year earlier.",
        "[Profit before tax|Operating profit] [rose|climbed] to {profit}, [beating|ahead of] [what analysts "
        "had expected|forecasts].",
        "Sales were strongest in {segment}, which now makes up about {share_pct} percent of the business.",
        "The company [hired|took on] {hires} new staff during the quarter, [mostly|mainly] in "
        "[engineering|sales and support].",
        "Spending on [energy|raw materials|shipping] [fell|eased] during the period, which helped margins.",
        "The chief executive, {ceo}, said orders for the next quarter were [already strong|higher than a "
        "year ago].",
        "The board [proposed|announced] a dividend of {dividend} cents a share, [up from|compared with] "
        "{dividend_prev} cents last year.",
        "[Shares|The company's shares] [rose|climbed] {share_move} percent [in early trading|on the day] "
        "after the results were published.",
        "The company now expects revenue for the full year to grow by between {lo} and {hi} percent.",
        "It also said it would [open a new office in {town2}|build a second warehouse|buy a smaller rival].",
        "Analysts at {bank} said the results [showed|were a sign of] [a business in good health|"
        "a strong recovery].",
        "Its borrowing [fell|was reduced] to {debt} by the end of the quarter.",
        "The company [warned|cautioned] that [higher interest rates|a slowdown in exports|rising wages] "
        "could [weigh on|affect] [sales|profits] later in the year.",
        "[Online sales|Exports] now make up about {exports} percent of [total revenue|all sales], up from "
        "{exports_prev} percent [two years ago|last year].",
        "The company invested {capex} in [new machinery|its factories|research] during the quarter.",
    ),
    quotes=(
        '"[We have had a strong start to the year|Our teams have done an excellent job in a difficult '
        'market]," said {ceo}. "[We are confident about the months ahead|Demand for {products} keeps '
        'growing]."',
    ),
    background=(
        "{company} was founded in {founded_co} [by {founder}|in a small workshop in {town}] and now "
        "employs about {staff_now} people.",
        "Its headquarters are in {town}, where it also runs [its main factory|a research center].",
    ),
    next_steps=(
        "[Full-year results|Results for the full year] will be published in {month2}.",
        "The company will [hold|host] [its annual meeting|a briefing for investors] in {town} on {weekday2} "
        "{day} {month2}.",
    ),
    town=False,
    reactions=False,
)

STUDY_TOPICS = (
    {
        "subject": "the {creature} in {region}",
        "result": "numbers of the {creature} in {region} have risen sharply since old wetlands were restored",
        "finding": "numbers had risen by {pct} percent over ten years at sites where wetlands were restored",
        "cause": "the return of shallow pools where the animals can breed",
        "method": "counting animals at {sites} sites every spring",
        "group": "the {region_name} Wildlife Trust",
    },
    {
        "subject": "bees on farms in {region}",
        "result": "farms with thick hedgerows have far more wild bees than farms without them",
        "finding": "farms with thick hedgerows had {pct} percent more wild bees",
        "cause": "the early spring flowers that hedgerows provide",
        "method": "surveying {sites} farms over three summers",
        "group": "the {region_name} Farmers' Union",
    },
    {
        "subject": "sleep among teenagers",
        "result": "teenagers who put their phones away an hour before bed sleep noticeably longer",
        "finding": "pupils who put their phones away an hour before bed slept {mins} minutes longer a night",
        "cause": "less bright light from screens late in the evening",
        "method": "following {sites} pupils from six schools for a full school year",
        "group": "the {region_name} Parents' Association",
    },
    {
        "subject": "water temperature in the {river}",
        "result": "the {river} has warmed by almost two degrees in summer since 1990",
        "finding": "summer water temperatures had risen by {deg} degrees since 1990",
        "cause": "the loss of trees that once shaded the banks",
        "method": "studying records from {sites} measuring stations along the river",
        "group": "the {river} Anglers' Club",
    },
    {
        "subject": "air quality near primary schools",
        "result": "closing streets to cars at school times cuts air pollution outside school gates",
        "finding": "pollution outside school gates fell by {pct} percent on streets closed to cars",
        "cause": "fewer cars waiting with their engines running",
        "method": "placing sensors outside {sites} schools for two years",
        "group": "the {region_name} Clean Air Campaign",
    },
)

FACILITIES = ("library", "community center", "sports center", "arts center", "health center")
FEATURES = (
    "a cafe",
    "a children's room",
    "four meeting rooms",
    "a rooftop garden",
    "a large hall",
    "a quiet study area",
    "a small theater",
    "a local history room",
    "a workshop for repairs",
)
STORM_NAMES = ("Storm Edwina", "Storm Barnaby", "Storm Ilse", "Storm Morven", "Storm Colm", "Storm Petra")
CHARITIES = (
    "the local hospice",
    "the lifeboat station",
    "a children's hospital",
    "the town's food bank",
    "a mountain rescue team",
)
JOURNALS = ("the Northern Journal of Ecology", "Field Science Letters", "the Review of Applied Biology")
FUNDERS = ("the National Research Council", "the Harwood Trust", "the regional government")
BANKS = ("Cresswell Capital", "Dunmore Securities", "Hale and Partners")
SEGMENTS = ("its export business", "online sales", "its service contracts", "the home market")
QUARTERS = ("first", "second", "third", "fourth")


def _ctx(rng: random.Random, cast: world.Cast) -> dict[str, Any]:
    """Slots shared by every story: a town, its mayor, residents, dates."""
    town, town2, town3 = pick(rng, world.TOWNS, 3)
    mayor, res1, res2, res3 = (cast.person() for _ in range(4))
    street, street2 = pick(rng, world.STREETS, 2)
    month, month2 = pick(rng, world.MONTHS, 2)
    weekday, weekday2 = pick(rng, world.WEEKDAYS, 2)
    stem, stem2 = pick(rng, world.COMPANY_STEMS, 2)
    kind, desc, products = rng.choice(world.COMPANY_KINDS)
    region = rng.choice(world.REGIONS)
    return {
        "town": town,
        "town2": town2,
        "town3": town3,
        "region": region,
        "region_name": region.replace("the ", "").split()[0].capitalize(),
        "river": rng.choice(world.RIVERS),
        "street": street,
        "street2": street2,
        "month": month,
        "month2": month2,
        "weekday": weekday,
        "weekday2": weekday2,
        "day": str(rng.randint(2, 28)),
        "mayor": mayor.full,
        "res1": res1.full,
        "res1_poss": res1.poss,
        "res2": res2.full,
        "res2_last": res2.last,
        "res3": res3.full,
        "population": thousands(rng.randint(40, 900) * 100),
        "founded": str(rng.randint(1080, 1650)),
        "known_for": rng.choice(world.KNOWN_FOR),
        "venue": VENUES,
        "company": f"{stem} {kind}",
        "company_desc": desc,
        "products": products,
        "contractor": f"{stem2} Construction",
        "cost": world.money(rng, 1.5, 45.0),
        "pct2": str(rng.randint(4, 19)),
        "year2": str(rng.randint(2008, 2018)),
    }


def _bridge(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    engineer = cast.person()
    ctx.update(
        bridge=rng.choice((f"{ctx['river']} Bridge", "Old Mill Bridge", "Town Bridge", "Abbey Bridge")),
        months_closed=rng.choice(("eighteen months", "two years", "fourteen months", "nine months")),
        engineer=engineer.full,
        engineer_last=engineer.last,
        vehicles=thousands(rng.randint(40, 260) * 100),
        bus1=str(rng.randint(2, 19)),
        bus2=str(rng.randint(20, 48)),
        built_year=str(rng.randint(1780, 1910)),
        council_share=world.money(rng, 0.3, 2.5),
    )


def _facility(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    a, b, c = pick(rng, FEATURES, 3)
    ctx.update(
        facility=rng.choice(FACILITIES),
        feature_a=a,
        feature_b=b,
        feature_c=c,
        architect=cast.person().full,
        artist=cast.person().full,
        manager=cast.person().full,
        visitors=thousands(rng.randint(6, 40) * 50),
        closed_year=str(rng.randint(2015, 2022)),
        annual=thousands(rng.randint(8, 60) * 5000),
        entries=str(rng.randint(4, 30) * 10),
    )


def _storm(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    ctx.update(
        storm=rng.choice(STORM_NAMES),
        wind=str(rng.randint(62, 98)),
        homes=thousands(rng.randint(4, 90) * 50),
        calls=str(rng.randint(25, 140)),
        rain=str(rng.randint(45, 130)),
        forecaster=cast.person().full,
        barrier_year=str(rng.randint(1998, 2019)),
    )


def _festival(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    name, attraction = rng.choice(world.FESTIVAL_KINDS)
    first_year = rng.randint(1950, 2005)
    ctx.update(
        festival=f"{ctx['town']} {name}",
        attraction=attraction,
        nth=ordinal(2024 - first_year),
        first_year=str(first_year),
        visitors=thousands(rng.randint(8, 90) * 250),
        stalls=str(rng.randint(3, 16) * 10),
        raised=f"${rng.randint(3, 60)},{rng.choice(('000', '500'))}",
        charity=rng.choice(CHARITIES),
        organizer=cast.person().full,
        winner=cast.person().full,
    )


def _factory(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    ceo = cast.person()
    ctx.update(
        jobs=str(rng.randint(8, 90) * 10),
        investment=world.money(rng, 12, 180),
        staff_now=thousands(rng.randint(3, 60) * 50),
        ceo=ceo.full,
        ceo_last=ceo.last,
        closure_year=str(rng.randint(1979, 2009)),
    )


def _budget(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    leader = cast.person()
    yes = rng.randint(16, 30)
    ctx.update(
        tax=f"{rng.randint(19, 49) / 10:.1f}",
        budget=world.money(rng, 80, 420),
        yes=str(yes),
        no=str(rng.randint(5, yes - 3)),
        share=world.money(rng, 20, 90),
        extra=world.money(rng, 0.5, 4.0),
        per_home=f"${rng.randint(3, 12) * 10}",
        leader=leader.full,
        leader_last=leader.last,
        opposition=cast.person().full,
        reserves=world.money(rng, 4, 25),
        council_staff=thousands(rng.randint(12, 60) * 50),
        saving=world.money(rng, 0.1, 0.9),
        finance=cast.person().full,
    )


def _study(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    lead = cast.person()
    creature = rng.choice(world.CREATURES)[0]
    topic = rng.choice(STUDY_TOPICS)
    ctx.update({key: value.replace("{creature}", creature) for key, value in topic.items()})
    ctx.update(
        lead_title=rng.choice(("Professor", "Dr")),
        lead=lead.full,
        lead_last=lead.last,
        journal=rng.choice(JOURNALS),
        funder=rng.choice(FUNDERS),
        expert=cast.person().full,
        records=thousands(rng.randint(4, 90) * 1000),
        pct=str(rng.randint(18, 65)),
        sites=str(rng.randint(24, 180)),
        mins=str(rng.randint(20, 45)),
        deg=f"{rng.randint(12, 24) / 10:.1f}",
    )


def _cup(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    manager, captain = cast.person(), cast.person(female=False)
    other, other2 = pick(rng, [t for t in world.TOWNS if t != ctx["town"]], 2)
    suffixes = ("Rovers", "Athletic", "Town", "United", "Wanderers", "Albion")
    a, b, c = pick(rng, suffixes, 3)
    ctx.update(
        team=f"{ctx['town']} {a}",
        opponent=f"{other} {b}",
        opponent2=f"{other2} {c}",
        competition=rng.choice(("the County Cup final", "the Regional Trophy final", "the Coast League Cup")),
        score="2-1",
        crowd=thousands(rng.randint(12, 90) * 100),
        ground=rng.choice(("Mill Lane", "the Riverside Ground", "Victoria Park", "the Old Showground")),
        scorer1=cast.person(female=False).full,
        scorer2=cast.person(female=False).full,
        opp_scorer=cast.person(female=False).full,
        keeper=cast.person(female=False).full,
        min1=ordinal(rng.randint(5, 38)),
        manager=manager.full,
        manager_last=manager.last,
        mgr_year=str(rng.randint(2015, 2022)),
        captain=captain.full,
        last_win=str(rng.randint(1952, 1999)),
        club_year=str(rng.randint(1878, 1925)),
        ground_year=str(rng.randint(1926, 1970)),
        away_fans=thousands(rng.randint(5, 40) * 100),
        opp_town=other,
        referee=cast.person().full,
    )


def _transit(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    ctx.update(
        minutes=str(rng.randint(5, 11) * 5),
        fare=f"${rng.randint(2, 6)}.{rng.choice(('50', '20', '80', '00'))}",
        **{"pass": f"${rng.randint(45, 95)}"},
        capacity=str(rng.randint(6, 30) * 10),
        riders=thousands(rng.randint(8, 60) * 100),
        operator=f"{rng.choice(world.COMPANY_STEMS)} Transit",
        spaces=str(rng.randint(6, 40) * 10),
        official=cast.person().full,
        closed_year=str(rng.randint(1958, 1972)),
        drivers=str(rng.randint(12, 60)),
    )


def _results(rng: random.Random, cast: world.Cast, ctx: dict[str, Any]) -> None:
    ceo = cast.person()
    revenue = rng.randint(40, 900)
    pct = rng.randint(4, 24)
    lo = rng.randint(3, 8)
    dividend_prev = rng.randint(8, 30)
    exports = rng.randint(25, 60)
    ctx.update(
        quarter=rng.choice(QUARTERS),
        pct=str(pct),
        revenue=f"{revenue} million dollars",
        revenue_prev=f"{round(revenue / (1 + pct / 100))} million dollars",
        profit=f"{max(2, revenue // rng.randint(6, 12))} million dollars",
        segment=rng.choice(SEGMENTS),
        share_pct=str(rng.randint(20, 55)),
        hires=str(rng.randint(4, 40) * 5),
        ceo=ceo.full,
        ceo_last=ceo.last,
        dividend=str(dividend_prev + rng.randint(1, 6)),
        dividend_prev=str(dividend_prev),
        share_move=f"{rng.randint(15, 90) / 10:.1f}",
        lo=str(lo),
        hi=str(lo + rng.randint(2, 5)),
        bank=rng.choice(BANKS),
        debt=world.money(rng, 10, 200),
        founder=cast.person().full,
        founded_co=str(rng.randint(1890, 1995)),
        staff_now=thousands(rng.randint(6, 120) * 50),
        exports=str(exports),
        exports_prev=str(exports - rng.randint(3, 9)),
        capex=world.money(rng, 2, 60),
    )


KINDS = (
    (BRIDGE, _bridge),
    (FACILITY, _facility),
    (STORM, _storm),
    (FESTIVAL, _festival),
    (FACTORY, _factory),
    (BUDGET, _budget),
    (STUDY, _study),
    (CUP, _cup),
    (TRANSIT, _transit),
    (RESULTS, _results),
)


def article_draft(rng: random.Random, paragraphs: bool = True) -> Draft:
    """Write one news article as a :class:`Draft` whose body can be cut to length.

    Args:
        rng: the random generator.
        paragraphs: split the body into short paragraphs separated by blank lines.

    Returns:
        The draft. Its head is the lead sentence; its body runs from the main details through
        quotes and background to reactions and next steps.
    """
    cast = world.Cast(rng)
    ctx = _ctx(rng, cast)
    pack, fill = rng.choice(KINDS)
    fill(rng, cast, ctx)
    details = list(pack.first) + shuffled(rng, pack.details)
    quotes = list(pack.quotes)
    order: list[str] = (
        details[:3] + quotes[:1] + details[3:6] + list(pack.background) + quotes[1:] + details[6:]
    )
    if pack.town:
        order += pick(rng, TOWN_BACKGROUND, 4) + pick(rng, WIDER, 3)
    if pack.reactions:
        reactions = list(REACTIONS)
        if rng.random() < 0.5:
            reactions = reactions[4:] + reactions[:4]
        order += reactions
    order += list(pack.next_steps)
    if pack.reactions:
        order += pick(rng, COUNCIL_NEXT, 3)
    sizes = rng.choice(((2, 3), (1, 2, 2), (2, 2, 3), (3, 2)))
    return Draft(
        head=[sentence(rng, rng.choice(pack.lead), ctx)],
        body=[sentence(rng, t, ctx) for t in order],
        paragraph_sizes=sizes if paragraphs else (),
        head_separator="\n\n" if paragraphs else " ",
    )
