#!/usr/bin/env python3
"""Generate ``records.jsonl``, the small feedback dataset bundled with rlhf.

Why it exists: the app, its tests and the tiny offline starter model need a
dataset that works without network access, has exactly the layout of Argilla
1.x ``FeedbackDataset.format_as("datasets")`` for
``argilla/databricks-dolly-15k-curated-en``, and carries a preference signal a
two-layer model can pick up in seconds. All text here was written for this
project.

How records are built:

* Data tables below hold general-knowledge facts (hand-written question and
  answer pairs, short passages, and tables such as capitals, animals, people,
  cities and recipes that small functions turn into questions).
* Each fact becomes one record. ``original-*`` holds a deliberately weaker
  response (a hedge, a ramble, a verbatim copy of the context, a hedged wrong
  answer, or a sentence that trails off) and, sometimes, an instruction typo
  or "[1]"-style citation markers in the context.
* Annotators' ``new-*`` answers hold the fix: the clean instruction and
  context and a direct, correct, one-to-two-sentence answer ending in a period.
* The annotation plan (submitted, two annotators, discarded, draft, no
  responses, unchanged) is drawn with fixed shares.

Everything comes from ``random.Random(SEED)``, so running
``python rlhf/data/sample/generate.py`` rewrites ``records.jsonl`` next to this
file byte for byte. Standard library only.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

SEED = 15_000
N_RECORDS = 400
NO_CONTEXT_SHARE = 0.40
OUTPUT = Path(__file__).with_name("records.jsonl")

# Four annotators with fixed, UUID-looking ids.
ANNOTATORS = (
    "0b5c1f4e-8a27-4d8e-9f1a-6c3e2d7b9a10",
    "5e9a7c31-2f64-4b0d-8e55-a1c7d3f2b846",
    "a3d82f6b-91c4-4e7a-b0f3-5d2e8c6a1f97",
    "d71f0e29-6b3a-4c58-a4e6-0f9b2c7d5e38",
)

# Share of records per annotation plan; plain "submitted" takes the remainder.
PLAN_SHARES = {
    "pair": 0.06,        # two annotators, both submitted, different wordings
    "discarded": 0.06,
    "draft": 0.04,
    "none": 0.12,        # nobody answered: all three new-* lists are []
    "unchanged": 0.03,   # submitted, but identical to the original
}
# Status of the single response for one-annotator plans.
PLAN_STATUS = {"submitted": "submitted", "unchanged": "submitted", "discarded": "discarded", "draft": "draft"}

MAX_WORDS = {"instruction": 25, "context": 60, "response": 40}
QUESTIONS = ("new-instruction", "new-context", "new-response")


@dataclass(frozen=True)
class Fact:
    """One question with its good answer; everything else in a record is derived."""

    category: str
    topic: str
    instruction: str
    answer: str                  # direct, correct, concise; ends with a period
    context: str | None = None
    alt: str | None = None       # another good wording, for two-annotator records
    wrong: str | None = None     # a plausible but incorrect statement
    subject: str | None = None   # short noun phrase used by weak-response templates


# --------------------------------------------------------------------------
# Small text helpers
# --------------------------------------------------------------------------

SENTENCE_BREAK = re.compile(r'(?<=[.!?"\]])\s+(?=[A-Z0-9])')  # "]" ends a cited sentence
CITATION = re.compile(r"\[\d+\]")


def join(items, conj: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def count_words(text: str) -> int:
    return len(text.split())


def sentences(text: str) -> list[str]:
    return SENTENCE_BREAK.split(text)


# --------------------------------------------------------------------------
# Hand-written facts without context: (category, topic, instruction, answer, alt, wrong)
# --------------------------------------------------------------------------

PLAIN_QA = [
    ("open_qa", "science", "Why is the sky blue?",
     "The sky looks blue because air molecules scatter blue sunlight much more strongly than red light.",
     "Because air scatters the short blue wavelengths of sunlight more than the longer red ones.",
     "The sky is blue because it reflects the color of the oceans."),
    ("open_qa", "science", "What is the largest planet in our solar system?",
     "Jupiter is the largest planet in our solar system.",
     "Jupiter. It is more than twice as massive as all the other planets combined.",
     "Saturn is the largest planet in our solar system."),
    ("open_qa", "science", "Which planet is closest to the Sun?",
     "Mercury is the planet closest to the Sun.",
     "Mercury. It orbits nearer to the Sun than any other planet.",
     "Venus is the planet closest to the Sun."),
    ("open_qa", "science", "How many planets are in our solar system?",
     "There are eight planets in our solar system.",
     "Eight: Mercury, Venus, Earth, Mars, Jupiter, Saturn, Uranus and Neptune.",
     "There are nine planets in our solar system."),
    ("open_qa", "science", "What gas do plants take in for photosynthesis?",
     "Plants take in carbon dioxide for photosynthesis and release oxygen.",
     "Carbon dioxide, which plants turn into sugar using sunlight.",
     "Plants take in oxygen for photosynthesis."),
    ("open_qa", "science", "At what temperature does water boil at sea level?",
     "At sea level, water boils at 100 degrees Celsius, or 212 degrees Fahrenheit.",
     "100 °C, which is 212 °F, at normal sea-level pressure.",
     "Water boils at 90 degrees Celsius at sea level."),
    ("open_qa", "science", "What is the hardest natural substance?",
     "Diamond is the hardest naturally occurring substance.",
     "Diamond, a form of pure carbon, is the hardest natural material.",
     "Granite is the hardest natural substance."),
    ("general_qa", "science", "Explain why ice floats on water.",
     "Ice floats because it is less dense than liquid water. Freezing locks water molecules into an open crystal structure that takes up more space.",
     "Ice is less dense than liquid water, because its molecules form an open crystal when they freeze.",
     "Ice floats because it is full of trapped air bubbles."),
    ("general_qa", "science", "What causes the seasons on Earth?",
     "The seasons are caused by the tilt of Earth's axis, which changes how directly sunlight hits each hemisphere during the year.",
     "Earth's tilted axis: each hemisphere gets more direct sunlight for part of the year and less for the rest.",
     "The seasons happen because Earth is much closer to the Sun in summer."),
    ("open_qa", "science", "How long does it take sunlight to reach Earth?",
     "Sunlight takes about eight minutes to reach Earth.",
     "About eight minutes, traveling roughly 150 million kilometers.",
     "Sunlight reaches Earth in about one second."),
    ("open_qa", "science", "What is the chemical formula for water?",
     "The chemical formula for water is H2O.",
     "H2O: two hydrogen atoms bonded to one oxygen atom.",
     "The chemical formula for water is HO2."),
    ("open_qa", "science", "How fast does sound travel in air?",
     "Sound travels at about 343 meters per second in air at room temperature.",
     "About 343 meters per second in room-temperature air.",
     "Sound travels at about 3,000 meters per second in air."),
    ("general_qa", "science", "Explain what a lunar eclipse is.",
     "A lunar eclipse happens when Earth passes between the Sun and the Moon, so Earth's shadow falls on the Moon.",
     None,
     "A lunar eclipse happens when the Moon passes between the Sun and Earth."),
    ("open_qa", "health", "How many bones are in the adult human body?",
     "An adult human body has 206 bones.",
     "206. Babies are born with more, but some fuse together as they grow.",
     "An adult human body has 300 bones."),
    ("open_qa", "health", "What is the largest organ of the human body?",
     "The skin is the largest organ of the human body.",
     "The skin, which covers and protects the whole body.",
     "The liver is the largest organ of the human body."),
    ("open_qa", "health", "Which organ pumps blood around the body?",
     "The heart pumps blood around the body.",
     "The heart. Its muscular walls push blood through the arteries and veins.",
     "The lungs pump blood around the body."),
    ("general_qa", "everyday", "How often should you replace your toothbrush?",
     "Replace your toothbrush every three to four months, or sooner if the bristles are frayed.",
     "Every three to four months is the usual advice, or earlier once the bristles fray.",
     "You only need to replace a toothbrush every few years."),
    ("open_qa", "history", "Who was the first president of the United States?",
     "George Washington was the first president of the United States.",
     "George Washington, who took office in 1789.",
     "John Adams was the first president of the United States."),
    ("open_qa", "history", "In what year did the Berlin Wall fall?",
     "The Berlin Wall fell in 1989.",
     "1989. It was opened on the night of November 9.",
     "The Berlin Wall fell in 1991."),
    ("open_qa", "history", "Who was the first person to walk on the Moon?",
     "Neil Armstrong was the first person to walk on the Moon, in July 1969.",
     "Neil Armstrong, during the Apollo 11 mission in 1969.",
     "Buzz Aldrin was the first person to walk on the Moon."),
    ("open_qa", "history", "Which civilization built Machu Picchu?",
     "The Inca built Machu Picchu in the 15th century.",
     "The Inca Empire built it high in the Andes of Peru.",
     "The Aztecs built Machu Picchu."),
    ("open_qa", "history", "In what year did World War II end?",
     "World War II ended in 1945.",
     "1945, with Germany surrendering in May and Japan in September.",
     "World War II ended in 1943."),
    ("open_qa", "history", "Which ship sank in 1912 after striking an iceberg?",
     "The Titanic sank in April 1912 after striking an iceberg.",
     "The Titanic, on its first voyage across the Atlantic.",
     "The Lusitania sank in 1912 after striking an iceberg."),
    ("open_qa", "history", "Where were the ancient Olympic Games held?",
     "The ancient Olympic Games were held at Olympia in Greece.",
     "At Olympia, a religious site in southern Greece.",
     "The ancient Olympic Games were held in Rome."),
    ("open_qa", "arts", "Who wrote Romeo and Juliet?",
     "William Shakespeare wrote Romeo and Juliet.",
     "William Shakespeare, the English playwright.",
     "Charles Dickens wrote Romeo and Juliet."),
    ("open_qa", "arts", "Who painted the Mona Lisa?",
     "Leonardo da Vinci painted the Mona Lisa.",
     "Leonardo da Vinci, the Italian Renaissance artist.",
     "Michelangelo painted the Mona Lisa."),
    ("open_qa", "geography", "What is the largest ocean on Earth?",
     "The Pacific Ocean is the largest ocean on Earth.",
     "The Pacific, which covers about a third of the planet's surface.",
     "The Atlantic Ocean is the largest ocean on Earth."),
    ("open_qa", "geography", "What is the tallest mountain in the world?",
     "Mount Everest is the tallest mountain above sea level, at about 8,849 meters.",
     "Mount Everest, on the border of Nepal and China.",
     "K2 is the tallest mountain in the world."),
    ("open_qa", "geography", "What is the smallest country in the world?",
     "Vatican City is the smallest country in the world by area.",
     "Vatican City, which lies entirely inside Rome.",
     "Monaco is the smallest country in the world."),
    ("open_qa", "geography", "What is the longest river in South America?",
     "The Amazon is the longest river in South America.",
     "The Amazon, which flows east across Brazil to the Atlantic.",
     "The Orinoco is the longest river in South America."),
    ("open_qa", "geography", "Which desert is the largest hot desert in the world?",
     "The Sahara is the largest hot desert in the world.",
     "The Sahara in North Africa.",
     "The Gobi is the largest hot desert in the world."),
    ("open_qa", "geography", "Which continent is Egypt in?",
     "Egypt is in Africa, although its Sinai Peninsula lies in Asia.",
     "Africa, apart from the Sinai Peninsula, which is in Asia.",
     "Egypt is in Asia."),
    ("open_qa", "cooking", "What is the main ingredient in guacamole?",
     "Avocado is the main ingredient in guacamole.",
     "Mashed avocado, usually with lime, onion and salt.",
     "Green peas are the main ingredient in guacamole."),
    ("open_qa", "cooking", "What is hummus made from?",
     "Hummus is made mainly from chickpeas blended with tahini, lemon juice and garlic.",
     "Chickpeas, blended with tahini, lemon juice and garlic.",
     "Hummus is made mainly from lentils."),
    ("general_qa", "cooking", "What does al dente mean when cooking pasta?",
     "Al dente means the pasta is cooked until tender but still firm to the bite.",
     "It means cooked just enough to stay slightly firm when you bite it.",
     "Al dente means the pasta is boiled until very soft."),
    ("open_qa", "cooking", "What makes bread dough rise?",
     "Yeast makes bread rise by producing carbon dioxide gas that gets trapped in the dough.",
     "Yeast. It ferments sugars and releases gas bubbles that puff up the dough.",
     "Bread rises because of the salt in the dough."),
    ("open_qa", "cooking", "Which spice gives curry powder its yellow color?",
     "Turmeric gives curry powder its yellow color.",
     "Turmeric, a ground root with a bright yellow color.",
     "Cinnamon gives curry powder its yellow color."),
    ("general_qa", "everyday", "What should you do if a pan of cooking oil catches fire?",
     "Turn off the heat and cover the pan with a metal lid. Never pour water on an oil fire.",
     "Switch off the heat and smother the flames with a lid; water would make it worse.",
     None),
    ("general_qa", "cooking", "How can you tell if an egg is fresh?",
     "Put the egg in a bowl of water: a fresh egg sinks and lies flat, while a stale one stands up or floats.",
     None, None),
    ("general_qa", "cooking", "How do you keep cut apples from turning brown?",
     "Brush the cut apples with lemon juice; its acid slows the browning.",
     "Toss the slices in a little lemon juice, whose acid slows browning.",
     "Keep the cut apples in a warm, sunny place."),
    ("general_qa", "cooking", "How long should you boil an egg for a soft yolk?",
     "Boil the egg for about six minutes, then cool it in cold water.",
     None,
     "Boil the egg for about 20 minutes for a soft yolk."),
    ("general_qa", "everyday", "What is the best way to remove a splinter?",
     "Wash the area, then pull the splinter out with clean tweezers in the same direction it went in.",
     None, None),
    ("general_qa", "everyday", "Why do we have leap years?",
     "Leap years keep the calendar in step with Earth's orbit, which takes about 365.25 days. An extra day every four years makes up the difference.",
     None,
     "Leap years were added just to give February more days."),
    ("open_qa", "music", "How many strings does a standard guitar have?",
     "A standard guitar has six strings.",
     "Six, usually tuned E, A, D, G, B and E.",
     "A standard guitar has four strings."),
    ("open_qa", "music", "How many keys does a standard piano have?",
     "A standard piano has 88 keys.",
     "88: 52 white keys and 36 black keys.",
     "A standard piano has 76 keys."),
    ("general_qa", "language", "What is a haiku?",
     "A haiku is a short Japanese poem of three lines, traditionally with five, seven and five syllables.",
     None,
     "A haiku is a long Japanese story told in rhyme."),
    ("open_qa", "language", "What is the plural of \"mouse\"?",
     "The plural of \"mouse\" is \"mice\".",
     "\"Mice\" is the plural of \"mouse\".",
     "The plural of \"mouse\" is \"mouses\"."),
    ("open_qa", "language", "What is a synonym for \"happy\"?",
     "\"Joyful\" is a synonym for \"happy\".",
     "\"Cheerful\" means much the same as \"happy\".",
     None),
    ("open_qa", "sports", "How many players does a soccer team have on the field?",
     "A soccer team has 11 players on the field, including the goalkeeper.",
     "Eleven, one of whom is the goalkeeper.",
     "A soccer team has nine players on the field."),
    ("open_qa", "sports", "How often are the Summer Olympic Games held?",
     "The Summer Olympic Games are held every four years.",
     "Every four years, in a different host city each time.",
     "The Summer Olympic Games are held every two years."),
    ("open_qa", "sports", "How many points is a touchdown worth in American football?",
     "A touchdown is worth six points.",
     "Six points, before the try for one or two extra points.",
     "A touchdown is worth seven points."),
    ("open_qa", "maths", "What do the interior angles of a triangle add up to?",
     "The interior angles of a triangle add up to 180 degrees.",
     "180 degrees, whatever the shape of the triangle.",
     "The interior angles of a triangle add up to 360 degrees."),
    ("open_qa", "maths", "What is the value of pi to two decimal places?",
     "Pi is 3.14 to two decimal places.",
     "3.14, since pi is about 3.14159.",
     "Pi is 3.12 to two decimal places."),
    ("open_qa", "maths", "What is the only even prime number?",
     "2 is the only even prime number.",
     "The number 2, because every larger even number is divisible by 2.",
     "4 is the only even prime number."),
    ("general_qa", "maths", "Explain what a prime number is.",
     "A prime number is a whole number greater than 1 whose only divisors are 1 and itself, such as 2, 3, 5 or 7.",
     None,
     "A prime number is any odd number."),
    ("open_qa", "maths", "How many degrees are in a right angle?",
     "A right angle measures 90 degrees.",
     "90 degrees, a quarter of a full turn.",
     "A right angle measures 45 degrees."),
    # Units and everyday numbers.
    ("open_qa", "everyday", "How many centimeters are in a meter?",
     "There are 100 centimeters in a meter.",
     "100. One meter equals 100 centimeters.",
     "There are 1,000 centimeters in a meter."),
    ("open_qa", "everyday", "How many minutes are in a day?",
     "There are 1,440 minutes in a day.",
     "1,440, because a day has 24 hours of 60 minutes each.",
     "There are 1,200 minutes in a day."),
    ("open_qa", "everyday", "How many days are in a leap year?",
     "A leap year has 366 days.",
     "366. The extra day is February 29.",
     "A leap year has 365 days."),
    ("open_qa", "everyday", "How many grams are in a kilogram?",
     "There are 1,000 grams in a kilogram.",
     "1,000, as the prefix kilo means a thousand.",
     "There are 100 grams in a kilogram."),
    ("open_qa", "everyday", "How many seconds are in an hour?",
     "There are 3,600 seconds in an hour.",
     "3,600, because an hour has 60 minutes of 60 seconds.",
     "There are 600 seconds in an hour."),
    ("open_qa", "everyday", "How many milliliters are in a liter?",
     "There are 1,000 milliliters in a liter.",
     "1,000. A milliliter is one thousandth of a liter.",
     "There are 100 milliliters in a liter."),
    ("open_qa", "everyday", "How many weeks are in a year?",
     "A year has 52 weeks plus one or two extra days.",
     "52 weeks, with one day left over, or two in a leap year.",
     "A year has 48 weeks."),
    ("open_qa", "everyday", "How many inches are in a foot?",
     "There are 12 inches in a foot.",
     "12. One foot is exactly 12 inches.",
     "There are 10 inches in a foot."),
    ("open_qa", "everyday", "How many ounces are in a pound?",
     "There are 16 ounces in a pound.",
     "16 ounces make one pound.",
     "There are 12 ounces in a pound."),
    ("open_qa", "everyday", "How many feet are in a mile?",
     "A mile is 5,280 feet.",
     "5,280 feet make one mile.",
     "A mile is 5,000 feet."),
    ("open_qa", "science", "At what temperature does water freeze in Fahrenheit?",
     "Water freezes at 32 degrees Fahrenheit.",
     "32 °F, which is 0 °C.",
     "Water freezes at 0 degrees Fahrenheit."),
]


# --------------------------------------------------------------------------
# Brainstorming: (topic, instruction, lead, conjunction, ideas); answers name three ideas
# --------------------------------------------------------------------------

BRAINSTORMS = [
    ("animals", "Name three mammals that live in the ocean.", "Three ocean mammals are", "and",
     ["whales", "dolphins", "seals", "sea otters", "manatees", "walruses"]),
    ("science", "Name three planets in our solar system.", "Three planets in our solar system are", "and",
     ["Mercury", "Venus", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"]),
    ("music", "Name three musical instruments that have strings.", "Three instruments with strings are", "and",
     ["the violin", "the cello", "the harp", "the guitar", "the double bass", "the banjo"]),
    ("everyday", "Give me three ideas for a rainy day at home.", "You could", "or",
     ["bake cookies", "build a blanket fort", "start a jigsaw puzzle", "have a movie marathon",
      "write letters to friends", "try a new recipe"]),
    ("cooking", "Suggest three vegetables that are easy to grow in a small garden.",
     "Easy vegetables for a small garden include", "and",
     ["tomatoes", "lettuce", "radishes", "green beans", "zucchini", "peas"]),
    ("geography", "Name three countries in South America.", "Three South American countries are", "and",
     ["Brazil", "Argentina", "Chile", "Peru", "Colombia", "Ecuador", "Uruguay"]),
    ("everyday", "What are three ways to save water at home?", "You can", "and",
     ["take shorter showers", "fix dripping faucets", "run the dishwasher only when it is full",
      "turn off the tap while brushing your teeth", "water plants with collected rainwater"]),
    ("animals", "Name three birds that cannot fly.", "Three flightless birds are", "and",
     ["ostriches", "emus", "penguins", "kiwis", "cassowaries", "rheas"]),
    ("health", "Suggest three healthy snacks to bring to work.", "Good options are", "and",
     ["apple slices with peanut butter", "a handful of almonds", "carrot sticks with hummus",
      "plain yogurt with berries", "a boiled egg"]),
    ("health", "Give me three tips for sleeping better.", "To sleep better,", "and",
     ["keep a regular bedtime", "avoid screens for an hour before bed", "keep your bedroom cool and dark",
      "skip caffeine after lunch"]),
    ("everyday", "What should I pack for a day hike? Name three things.", "Bring", "and",
     ["plenty of water", "a map", "sunscreen", "a rain jacket", "some snacks", "a small first-aid kit"]),
    ("music", "Name three famous composers of classical music.", "Three famous classical composers are", "and",
     ["Johann Sebastian Bach", "Wolfgang Amadeus Mozart", "Ludwig van Beethoven", "Frédéric Chopin",
      "Pyotr Tchaikovsky", "Antonio Vivaldi"]),
    ("animals", "Suggest three names for a pet goldfish.", "You could call it", "or",
     ["Bubbles", "Goldie", "Finn", "Sunny", "Captain Fins", "Marmalade"]),
    ("science", "Name three renewable sources of energy.", "Three renewable energy sources are", "and",
     ["solar power", "wind power", "hydropower", "geothermal energy", "tidal power"]),
    ("everyday", "Give me three ways to reuse empty glass jars.", "You can use them to", "or",
     ["store spices", "hold flowers as a vase", "keep leftovers in the fridge", "organize screws and nails",
      "make a candle holder"]),
    ("everyday", "Suggest three board games for a family game night.", "Try", "or",
     ["chess", "Scrabble", "checkers", "Monopoly", "Ticket to Ride", "Pictionary"]),
    ("science", "Name three noble gases.", "Three noble gases are", "and",
     ["helium", "neon", "argon", "krypton", "xenon"]),
    ("geography", "Name three rivers in Europe.", "Three European rivers are the", "and",
     ["Danube", "Rhine", "Seine", "Thames", "Loire", "Volga"]),
    ("everyday", "How can I stay cool on a very hot day? Give three ideas.", "You can", "and",
     ["drink plenty of water", "stay in the shade", "wear loose cotton clothing", "take a cool shower",
      "close the curtains during the hottest hours"]),
    ("animals", "Name three insects that live in colonies.", "Three insects that live in colonies are", "and",
     ["ants", "honeybees", "termites", "paper wasps"]),
    ("cooking", "List three things you can do to reduce food waste.", "You can", "and",
     ["plan meals before shopping", "freeze leftovers", "store fruit and vegetables properly",
      "use older ingredients first", "compost scraps"]),
    ("geography", "Name three famous landmarks in Paris.", "Three famous Paris landmarks are", "and",
     ["the Eiffel Tower", "the Louvre", "Notre-Dame Cathedral", "the Arc de Triomphe", "Sacré-Cœur"]),
    ("language", "Suggest three ways to practice a new language every day.", "You could", "or",
     ["label objects around your home", "listen to podcasts in the language", "chat with a language partner",
      "keep a short daily diary", "watch films with subtitles"]),
    ("health", "Name three good sources of vitamin C.", "Good sources of vitamin C include", "and",
     ["oranges", "kiwis", "strawberries", "red peppers", "broccoli"]),
]


# --------------------------------------------------------------------------
# Hand-written passages: (topic, context, [(category, instruction, answer, alt, wrong), ...])
# --------------------------------------------------------------------------

PASSAGES = [
    ("animals",
     'Both frogs and toads are amphibians in the order Anura, which means "without a tail." Toads are a '
     "sub-classification of frogs, meaning that all toads are frogs, but not all frogs are toads.",
     [("closed_qa", "Is a toad a frog?",
       "Yes. All toads are frogs, but not all frogs are toads.",
       "Yes, toads are a sub-group of frogs, so every toad is a frog.",
       "No. Toads and frogs are two separate groups of animals."),
      ("information_extraction", "What does the name of the order Anura mean?",
       'The name Anura means "without a tail".', None,
       'The name Anura means "jumping animal".')]),
    ("science",
     "Photosynthesis is the process plants use to turn light into chemical energy. Using sunlight, they "
     "combine carbon dioxide from the air with water from the soil to make glucose. Oxygen is released as a "
     "by-product. The process takes place mainly in the leaves, inside structures called chloroplasts.",
     [("information_extraction", "What two ingredients do plants combine during photosynthesis?",
       "Plants combine carbon dioxide and water to make glucose.",
       "Carbon dioxide from the air and water from the soil.",
       "Plants combine oxygen and nitrogen to make glucose."),
      ("summarization", "Give a one-sentence summary of this passage about photosynthesis.",
       "Photosynthesis lets plants use sunlight to turn carbon dioxide and water into glucose, releasing oxygen.",
       None, None)]),
    ("science",
     "The water cycle describes how water moves around the Earth. The Sun heats water in oceans and lakes, "
     "causing it to evaporate. The vapor cools as it rises and condenses into clouds. Eventually the water "
     "falls back as rain or snow, collecting in rivers and seas before the cycle begins again.",
     [("closed_qa", "What happens to water vapor as it rises?",
       "As it rises, water vapor cools and condenses into clouds.",
       "It cools down and condenses into clouds.",
       "As it rises, water vapor heats up and turns into snow."),
      ("summarization", "Summarize the water cycle in one sentence.",
       "Water evaporates, condenses into clouds, falls as rain or snow and flows back to the sea, again and again.",
       None, None)]),
    ("history",
     "The Great Wall of China is a series of fortifications built over many centuries to protect Chinese "
     "states from northern invaders. Most of the wall standing today was built during the Ming dynasty "
     "(1368–1644). Contrary to a popular myth, it cannot be seen with the naked eye from the Moon.",
     [("closed_qa", "Can the Great Wall of China be seen from the Moon?",
       "No. The passage says it cannot be seen with the naked eye from the Moon.",
       "No, that is a popular myth; it is not visible to the naked eye from the Moon.",
       "Yes, it is the only human-made structure visible from the Moon."),
      ("information_extraction", "During which dynasty was most of the surviving wall built?",
       "Most of the surviving wall was built during the Ming dynasty.",
       "The Ming dynasty, which ruled from 1368 to 1644.",
       "Most of the surviving wall was built during the Han dynasty.")]),
    ("history",
     "In the mid-1400s, Johannes Gutenberg developed a printing press with movable metal type in Mainz, "
     "Germany. His method made books much cheaper and faster to produce. The Gutenberg Bible, printed in the "
     "1450s, is one of the first major books printed this way in Europe.",
     [("closed_qa", "Where did Gutenberg develop his printing press?",
       "Gutenberg developed his printing press in Mainz, Germany.",
       "In the German city of Mainz.",
       "Gutenberg developed his printing press in Paris, France."),
      ("summarization", "Summarize this passage in one sentence.",
       "In the mid-1400s Gutenberg's movable-type press in Mainz made books cheaper and faster to produce.",
       None, None)]),
    ("geography",
     "The Nile is a major river in northeastern Africa. It flows north for about 6,650 kilometers and empties "
     "into the Mediterranean Sea. Its two main branches, the White Nile and the Blue Nile, meet at Khartoum in "
     "Sudan. For thousands of years, its floods made farming possible in Egypt.",
     [("information_extraction", "Name the two main branches of the Nile.",
       "The two main branches are the White Nile and the Blue Nile.",
       "The White Nile and the Blue Nile.",
       "The two main branches are the Red Nile and the Green Nile."),
      ("closed_qa", "Where do the White Nile and the Blue Nile meet?",
       "They meet at Khartoum, in Sudan.",
       "At Khartoum, the capital of Sudan.",
       "They meet at Cairo, in Egypt.")]),
    ("geography",
     "Iceland sits on the Mid-Atlantic Ridge, where the North American and Eurasian tectonic plates are "
     "slowly pulling apart. This makes the island one of the most volcanically active places on Earth. "
     "Geothermal energy from the hot rock underground heats most homes in the country.",
     [("closed_qa", "Why is Iceland so volcanically active?",
       "Iceland lies on the Mid-Atlantic Ridge, where two tectonic plates are pulling apart.",
       "Because it sits where the North American and Eurasian plates are separating.",
       "Iceland is volcanically active because it is close to the North Pole."),
      ("information_extraction", "What is geothermal energy used for in Iceland?",
       "Geothermal energy heats most homes in Iceland.",
       "It heats most of the country's homes.",
       None)]),
    ("cooking",
     "A sourdough starter is a mix of flour and water that has been colonized by wild yeast and lactic acid "
     "bacteria. Bakers feed it regularly with fresh flour and water. The yeast makes the bread rise, while "
     "the bacteria give sourdough its tangy flavor.",
     [("closed_qa", "What gives sourdough bread its tangy flavor?",
       "Lactic acid bacteria in the starter give sourdough its tangy flavor.",
       "The lactic acid bacteria living in the starter.",
       "The tangy flavor comes from vinegar added to the dough."),
      ("summarization", "Give a one-sentence summary of the text.",
       "A sourdough starter is a fed mix of flour and water whose wild yeast raises the bread and whose bacteria add tang.",
       None, None)]),
    ("cooking",
     "The Maillard reaction is a chemical reaction between amino acids and sugars that happens when food is "
     "heated, usually above about 140 °C. It is responsible for the browned crust on bread, seared steak and "
     "roasted coffee beans, and for many of their savory aromas.",
     [("information_extraction", "List three foods the passage says are browned by the Maillard reaction.",
       "The passage names bread crust, seared steak and roasted coffee beans.",
       "Bread crust, seared steak and roasted coffee beans.",
       None),
      ("closed_qa", "Which two kinds of molecules react in the Maillard reaction?",
       "Amino acids and sugars react in the Maillard reaction.",
       "Amino acids react with sugars.",
       "Fats and salts react in the Maillard reaction.")]),
    ("everyday",
     "To plant a young tree, dig a hole two to three times wider than its root ball but no deeper. Set the "
     "tree so the top of the root ball is level with the ground, fill the hole with soil and water it well. "
     "Add mulch around the base, keeping it away from the trunk.",
     [("closed_qa", "How wide should the hole be when planting a tree?",
       "The hole should be two to three times wider than the root ball, but no deeper.",
       "Two to three times the width of the root ball.",
       "The hole should be exactly as wide as the root ball and twice as deep."),
      ("summarization", "Summarize these tree-planting instructions in one sentence.",
       "Dig a wide, shallow hole, set the root ball level with the ground, backfill, water well and add mulch.",
       None, None)]),
    ("health",
     "Health agencies recommend washing your hands with soap and water for at least 20 seconds. Scrub the "
     "backs of your hands, between your fingers and under your nails. Rinse well and dry with a clean towel "
     "or an air dryer.",
     [("closed_qa", "How long should you wash your hands?",
       "You should wash your hands with soap and water for at least 20 seconds.",
       "At least 20 seconds, using soap and water.",
       "About five seconds is enough when washing your hands."),
      ("information_extraction", "Which parts of the hands does the text say to scrub?",
       "Scrub the backs of your hands, between your fingers and under your nails.",
       None, None)]),
    ("science",
     "The Moon does not produce its own light; it reflects sunlight. As the Moon orbits Earth, we see "
     "different amounts of its sunlit side. A full cycle of these phases, from new moon to full moon and back, "
     "takes about 29.5 days.",
     [("closed_qa", "Why does the Moon shine?",
       "The Moon shines because it reflects sunlight; it makes no light of its own.",
       "It reflects light from the Sun.",
       "The Moon shines because its surface glows with heat."),
      ("information_extraction", "How long does a full cycle of the Moon's phases take?",
       "A full cycle of the Moon's phases takes about 29.5 days.",
       "About 29.5 days.",
       "A full cycle of the Moon's phases takes about 7 days.")]),
    ("cooking",
     "Honey can last for a very long time because it is low in water and naturally acidic, which makes it "
     "hard for bacteria to grow. Archaeologists have found pots of honey in ancient Egyptian tombs that were "
     "still well preserved.",
     [("closed_qa", "Why does honey last so long?",
       "Honey lasts long because it is low in water and acidic, so bacteria struggle to grow in it.",
       "Its low water content and natural acidity keep bacteria from growing.",
       "Honey lasts long because bees add preservatives to it.")]),
    ("history",
     "The ancient Romans built aqueducts to carry fresh water into their cities. The channels sloped gently "
     "downhill so that gravity kept the water flowing, sometimes across tall stone bridges of arches. Rome "
     "itself was eventually supplied by eleven aqueducts.",
     [("closed_qa", "What kept the water flowing in Roman aqueducts?",
       "Gravity kept the water flowing, because the channels sloped gently downhill.",
       "Gravity, thanks to a gentle downhill slope along the channels.",
       "Large steam pumps kept the water flowing."),
      ("information_extraction", "How many aqueducts eventually supplied Rome?",
       "Rome was eventually supplied by eleven aqueducts.",
       "Eleven.",
       "Rome was eventually supplied by three aqueducts.")]),
    ("history",
     "Magna Carta is a charter that King John of England agreed to in 1215 at Runnymede, near Windsor. It "
     "limited the king's power and stated that free men could not be punished without lawful judgment. It "
     "later became a symbol of the rule of law.",
     [("closed_qa", "In what year was Magna Carta agreed?",
       "King John agreed to Magna Carta in 1215.",
       "In 1215, at Runnymede.",
       "King John agreed to Magna Carta in 1066."),
      ("summarization", "Give a one-sentence summary of this passage.",
       "Magna Carta, agreed by King John in 1215, limited royal power and became a symbol of the rule of law.",
       None, None)]),
    ("animals",
     "Tardigrades, also called water bears, are tiny animals usually less than a millimeter long. They live "
     "in moss, soil and oceans around the world. When conditions turn harsh, they can dry out and enter a "
     "state called cryptobiosis, surviving extreme cold, radiation and even the vacuum of space.",
     [("information_extraction", "What is another name for tardigrades?",
       "Tardigrades are also called water bears.",
       "Water bears.",
       "Tardigrades are also called sea spiders."),
      ("closed_qa", "How do tardigrades survive harsh conditions?",
       "They dry out and enter a state called cryptobiosis, which lets them survive extreme conditions.",
       None, None)]),
    ("geography",
     "The Dead Sea is a salt lake bordered by Jordan to the east and by Israel and the West Bank to the west. "
     "Its shore is the lowest land on Earth, more than 400 meters below sea level. The water is so salty that "
     "people float easily, and almost no fish or plants can live in it.",
     [("closed_qa", "Why do people float easily in the Dead Sea?",
       "People float easily because the water is extremely salty.",
       "Its very salty water makes swimmers float.",
       "People float easily because the water is very warm."),
      ("information_extraction", "How far below sea level is the shore of the Dead Sea?",
       "Its shore is more than 400 meters below sea level.",
       "More than 400 meters.",
       "Its shore is about 40 meters below sea level.")]),
    ("cooking",
     "To brew black tea, bring fresh water to a full boil and pour it over the leaves or tea bag. Let it steep "
     "for three to five minutes, then remove the leaves. Green tea is more delicate: use water just below "
     "boiling and steep it for only two to three minutes.",
     [("closed_qa", "How long should black tea steep?",
       "Black tea should steep for three to five minutes.",
       "Three to five minutes in freshly boiled water.",
       "Black tea should steep for about 15 minutes."),
      ("information_extraction", "How is brewing green tea different from brewing black tea?",
       "Green tea uses water just below boiling and steeps for only two to three minutes.",
       None, None)]),
    ("science",
     "Lightning is a giant spark of electricity between clouds, or between a cloud and the ground. It heats "
     "the air around it so quickly that the air expands with a bang, which we hear as thunder. Because light "
     "travels faster than sound, we see the flash before we hear the thunder.",
     [("closed_qa", "Why do we see lightning before we hear thunder?",
       "We see lightning first because light travels much faster than sound.",
       "Because light is far faster than sound.",
       "Because thunder only starts after the lightning has finished."),
      ("summarization", "Summarize the text in one sentence.",
       "Lightning is an electric spark that heats the air so fast it booms as thunder, which we hear after the flash.",
       None, None)]),
    ("history",
     "On December 17, 1903, Orville and Wilbur Wright made the first controlled, powered airplane flights "
     "near Kitty Hawk, North Carolina. The first flight, piloted by Orville, lasted 12 seconds and covered "
     "about 37 meters.",
     [("information_extraction", "How long did the Wright brothers' first flight last?",
       "The first flight lasted 12 seconds and covered about 37 meters.",
       "12 seconds.",
       "The first flight lasted about an hour."),
      ("closed_qa", "Who piloted the first flight?",
       "Orville Wright piloted the first flight.",
       "Orville Wright.",
       "Wilbur Wright piloted the first flight.")]),
    ("music",
     "A symphony orchestra is usually divided into four sections. The strings include violins, violas, cellos "
     "and double basses. The woodwinds include flutes, oboes, clarinets and bassoons, while the brass section "
     "has trumpets, horns, trombones and tubas. The percussion section includes timpani and cymbals.",
     [("classification", "Using the passage, classify the clarinet, the cello and the tuba by orchestra section.",
       "The clarinet is a woodwind, the cello is a string instrument and the tuba is brass.",
       "Woodwind for the clarinet, strings for the cello and brass for the tuba.",
       "The clarinet is brass, the cello is percussion and the tuba is a woodwind."),
      ("information_extraction", "Name the four sections of a symphony orchestra.",
       "The four sections are strings, woodwinds, brass and percussion.",
       "Strings, woodwinds, brass and percussion.",
       None)]),
    ("sports",
     "The marathon is a long-distance running race of 42.195 kilometers. The event is named after the legend "
     "of a Greek messenger who ran from the town of Marathon to Athens to announce a victory. The modern "
     "distance comes from the course of the 1908 London Olympics.",
     [("information_extraction", "How long is a marathon?",
       "A marathon is 42.195 kilometers long.",
       "42.195 kilometers.",
       "A marathon is 26 kilometers long."),
      ("summarization", "Give a one-sentence summary of this passage about the marathon.",
       "The marathon is a 42.195-kilometer race named after a Greek legend, with its distance set at the 1908 Olympics.",
       None, None)]),
    ("health",
     "Vaccines train the immune system to recognize a germ without causing the disease. They contain a "
     "weakened or inactivated germ, or just a harmless piece of it. If the real germ invades later, the body "
     "can fight it off quickly.",
     [("closed_qa", "How do vaccines protect the body?",
       "Vaccines train the immune system to recognize a germ, so the body can fight it off quickly later.",
       None, None)]),
    ("everyday",
     "Most houseplants are harmed more by too much water than too little. Before watering, push a finger into "
     "the soil: if the top two or three centimeters are dry, it is time to water. Pots should have drainage "
     "holes so that extra water can escape.",
     [("closed_qa", "How can you tell when a houseplant needs water?",
       "Push a finger into the soil; if the top two or three centimeters are dry, it needs water.",
       None,
       "Water it whenever the leaves look shiny."),
      ("information_extraction", "Why should pots have drainage holes?",
       "Drainage holes let extra water escape from the pot.",
       "So that extra water can drain out.",
       None)]),
    ("animals",
     "The Arctic tern makes the longest known migration of any animal. Each year it flies from its breeding "
     "grounds in the Arctic to the Antarctic and back, a round trip that can exceed 70,000 kilometers. "
     "Because it follows summer at both poles, it sees more daylight than any other creature.",
     [("closed_qa", "Which animal has the longest known migration?",
       "The Arctic tern has the longest known migration of any animal.",
       "The Arctic tern.",
       "The humpback whale has the longest known migration of any animal."),
      ("information_extraction", "How long can the Arctic tern's yearly round trip be?",
       "Its round trip can be more than 70,000 kilometers.",
       "More than 70,000 kilometers.",
       "Its round trip is about 7,000 kilometers.")]),
    ("animals",
     "African elephants are the largest land animals on Earth. They use their trunks to breathe, smell, "
     "drink and grab food. Elephants live in family groups led by the oldest female, called the matriarch.",
     [("information_extraction", "List three things elephants use their trunks for.",
       "Elephants use their trunks to breathe, smell and drink.",
       "Breathing, smelling and grabbing food.",
       None),
      ("closed_qa", "Who leads an elephant family group?",
       "The oldest female, called the matriarch, leads the group.",
       "The matriarch, who is the oldest female.",
       "The largest male leads an elephant family group.")]),
    ("geography",
     "The Amazon rainforest covers much of the Amazon basin in South America, mostly in Brazil. It is the "
     "largest tropical rainforest in the world and is home to millions of species of insects, plants, birds "
     "and other animals.",
     [("closed_qa", "In which country is most of the Amazon rainforest?",
       "Most of the Amazon rainforest is in Brazil.",
       "Brazil.",
       "Most of the Amazon rainforest is in Peru."),
      ("summarization", "Summarize this passage in one sentence.",
       "The Amazon, mostly in Brazil, is the world's largest tropical rainforest and home to millions of species.",
       None, None)]),
    ("science",
     "A rainbow forms when sunlight enters raindrops, bends, reflects off the back of each drop and bends "
     "again as it leaves. Each color bends by a slightly different amount, so white light splits into red, "
     "orange, yellow, green, blue, indigo and violet. You can only see a rainbow with the Sun behind you.",
     [("information_extraction", "List the colors of the rainbow named in the text.",
       "The colors are red, orange, yellow, green, blue, indigo and violet.",
       None, None),
      ("closed_qa", "Where must the Sun be for you to see a rainbow?",
       "The Sun must be behind you to see a rainbow.",
       "Behind you.",
       "The Sun must be directly in front of you to see a rainbow.")]),
    ("history",
     "The Rosetta Stone is a stone slab carved in 196 BC with the same decree in three scripts: hieroglyphic, "
     "Demotic and ancient Greek. Found in 1799, it gave scholars the key to deciphering Egyptian "
     "hieroglyphs, a task completed by Jean-François Champollion in 1822.",
     [("information_extraction", "Which three scripts appear on the Rosetta Stone?",
       "The Rosetta Stone is carved in hieroglyphic, Demotic and ancient Greek.",
       "Hieroglyphic, Demotic and ancient Greek.",
       "The Rosetta Stone is carved in Latin, Greek and Arabic."),
      ("closed_qa", "Who deciphered Egyptian hieroglyphs?",
       "Jean-François Champollion deciphered them in 1822.",
       "Jean-François Champollion.",
       "Napoleon Bonaparte deciphered Egyptian hieroglyphs.")]),
    ("cooking",
     "After cooking a steak or a roast, let it rest for several minutes before cutting. While it rests, the "
     "juices settle back into the meat instead of running out onto the board. A thin steak needs about five "
     "minutes, while a large roast may need twenty.",
     [("closed_qa", "Why should you let meat rest after cooking?",
       "Resting lets the juices settle back into the meat so they do not run out when you cut it.",
       "So the juices stay in the meat instead of running onto the board.",
       "Resting makes the meat cook faster."),
      ("information_extraction", "How long should a large roast rest?",
       "A large roast may need about twenty minutes to rest.",
       "About twenty minutes.",
       "A large roast needs about two hours to rest.")]),
    ("everyday",
     "LED bulbs use at least 75 percent less energy than traditional incandescent bulbs and can last up to "
     "25 times longer. They also give off much less heat, because more of the electricity they use becomes "
     "light.",
     [("information_extraction", "How much longer can LED bulbs last than incandescent bulbs?",
       "LED bulbs can last up to 25 times longer than incandescent bulbs.",
       "Up to 25 times longer.",
       "LED bulbs last about twice as long as incandescent bulbs."),
      ("summarization", "Give a one-sentence summary of the text.",
       "LED bulbs use far less energy, last much longer and run cooler than incandescent bulbs.",
       None, None)]),
    ("science",
     "A black hole is a region of space where gravity is so strong that nothing, not even light, can escape. "
     "Many form when a very massive star collapses at the end of its life. The boundary beyond which escape "
     "is impossible is called the event horizon.",
     [("information_extraction", "What is the boundary around a black hole called?",
       "The boundary around a black hole is called the event horizon.",
       "The event horizon.",
       "The boundary around a black hole is called the corona."),
      ("closed_qa", "Can light escape from a black hole?",
       "No. A black hole's gravity is so strong that not even light can escape.",
       "No, not even light escapes its gravity.",
       "Yes, light can escape if it moves fast enough.")]),
    ("maths",
     "The Pythagorean theorem states that in a right triangle, the square of the longest side, the "
     "hypotenuse, equals the sum of the squares of the other two sides. For example, a triangle with sides of "
     "3 and 4 units has a hypotenuse of 5 units.",
     [("closed_qa", "How long is the hypotenuse of a right triangle whose other sides are 3 and 4 units?",
       "The hypotenuse is 5 units long, since 3² + 4² = 5².",
       "5 units, because 9 + 16 = 25.",
       "The hypotenuse is 7 units long."),
      ("summarization", "Summarize the Pythagorean theorem in one sentence.",
       "In a right triangle, the square of the hypotenuse equals the sum of the squares of the other two sides.",
       None, None)]),
    ("sports",
     "Chess is played by two players on a board of 64 squares. Each player starts with 16 pieces: one king, "
     "one queen, two rooks, two bishops, two knights and eight pawns. The goal is to checkmate the "
     "opponent's king, leaving it under attack with no legal escape.",
     [("information_extraction", "How many pawns does each chess player start with?",
       "Each player starts with eight pawns.",
       "Eight pawns each.",
       "Each player starts with six pawns."),
      ("closed_qa", "What is the goal in chess?",
       "The goal is to checkmate the opponent's king, leaving it under attack with no escape.",
       None, None)]),
    ("health",
     "Adults generally need seven to nine hours of sleep a night, while teenagers need eight to ten. Regular "
     "sleep helps memory, mood and the immune system. Keeping a consistent bedtime and avoiding screens "
     "before bed can improve sleep quality.",
     [("closed_qa", "How much sleep do adults need?",
       "Adults generally need seven to nine hours of sleep a night.",
       "Seven to nine hours a night.",
       "Adults generally need four to five hours of sleep a night."),
      ("summarization", "Give a one-sentence summary of this passage.",
       "Adults need seven to nine hours of sleep, which supports memory, mood and immunity, and good habits help.",
       None, None)]),
]


# --------------------------------------------------------------------------
# Tables that small functions turn into questions
# --------------------------------------------------------------------------

# (country, capital, a well-known city that people often mistake for it, continent or None)
CAPITALS = [
    ("France", "Paris", "Lyon", "Europe"), ("Japan", "Tokyo", "Osaka", "Asia"),
    ("Australia", "Canberra", "Sydney", "Oceania"), ("Canada", "Ottawa", "Toronto", "North America"),
    ("Brazil", "Brasília", "Rio de Janeiro", "South America"), ("Turkey", "Ankara", "Istanbul", None),
    ("Switzerland", "Bern", "Zurich", "Europe"), ("Egypt", "Cairo", "Alexandria", None),
    ("Kenya", "Nairobi", "Mombasa", "Africa"), ("Peru", "Lima", "Cusco", "South America"),
    ("Norway", "Oslo", "Bergen", "Europe"), ("Italy", "Rome", "Milan", "Europe"),
    ("Spain", "Madrid", "Barcelona", "Europe"), ("Germany", "Berlin", "Munich", "Europe"),
    ("India", "New Delhi", "Mumbai", "Asia"), ("China", "Beijing", "Shanghai", "Asia"),
    ("Argentina", "Buenos Aires", "Córdoba", "South America"), ("Morocco", "Rabat", "Casablanca", "Africa"),
    ("New Zealand", "Wellington", "Auckland", "Oceania"), ("South Korea", "Seoul", "Busan", "Asia"),
    ("Vietnam", "Hanoi", "Ho Chi Minh City", "Asia"), ("Nigeria", "Abuja", "Lagos", "Africa"),
    ("Portugal", "Lisbon", "Porto", "Europe"), ("Poland", "Warsaw", "Kraków", "Europe"),
    ("Greece", "Athens", "Thessaloniki", "Europe"), ("Chile", "Santiago", "Valparaíso", "South America"),
    ("Sweden", "Stockholm", "Gothenburg", "Europe"), ("Pakistan", "Islamabad", "Karachi", "Asia"),
    ("Colombia", "Bogotá", "Medellín", "South America"), ("Ghana", "Accra", "Kumasi", "Africa"),
    ("Iceland", "Reykjavík", "Akureyri", "Europe"), ("Cuba", "Havana", "Santiago de Cuba", "North America"),
    ("Mongolia", "Ulaanbaatar", "Darkhan", "Asia"), ("Mexico", "Mexico City", "Guadalajara", "North America"),
]

# (element, symbol, a tempting wrong symbol, Latin name the symbol comes from or None)
ELEMENTS = [
    ("gold", "Au", "Go", "aurum"), ("silver", "Ag", "Si", "argentum"), ("iron", "Fe", "Ir", "ferrum"),
    ("sodium", "Na", "So", "natrium"), ("potassium", "K", "Po", "kalium"), ("lead", "Pb", "Le", "plumbum"),
    ("copper", "Cu", "Co", "cuprum"), ("tin", "Sn", "Ti", "stannum"), ("mercury", "Hg", "Me", "hydrargyrum"),
    ("helium", "He", "H", None), ("oxygen", "O", "Ox", None), ("carbon", "C", "Ca", None),
    ("calcium", "Ca", "Cl", None), ("nitrogen", "N", "Ni", None), ("hydrogen", "H", "Hy", None),
    ("zinc", "Zn", "Zi", None), ("neon", "Ne", "N", None),
]

# (animal with article, what it is, a common mix-up or None, a supporting sentence)
ANIMAL_KINDS = [
    ("a dolphin", "a mammal", "a fish", "It breathes air and feeds its young milk."),
    ("a whale", "a mammal", "a fish", "It breathes air through a blowhole."),
    ("a bat", "a mammal", "a bird", "It is the only mammal capable of true flight."),
    ("a penguin", "a bird", "a mammal", "It has feathers and lays eggs, even though it cannot fly."),
    ("a shark", "a fish", "a mammal", "It breathes through gills."),
    ("an octopus", "a mollusk", "a fish", "It is related to snails and squid."),
    ("a spider", "an arachnid", "an insect", "It has eight legs, while insects have six."),
    ("a crocodile", "a reptile", "an amphibian", "It has dry, scaly skin and lays its eggs on land."),
    ("a salamander", "an amphibian", "a reptile", "It has moist skin and usually lays its eggs in water."),
    ("a seahorse", "a fish", None, "It breathes through gills and swims using a small fin on its back."),
    ("a starfish", "an echinoderm", "a fish", "Despite its name, it has no gills, fins or backbone."),
    ("a jellyfish", "a cnidarian", "a fish", "It has no brain, bones or heart."),
    ("a crab", "a crustacean", "an insect", "It is related to lobsters and shrimp."),
    ("a platypus", "a mammal", "a bird", "It lays eggs but feeds its young milk."),
    ("a turtle", "a reptile", "an amphibian", "It breathes air and lays its eggs on land."),
    ("a koala", "a marsupial", "a bear", "It carries its young in a pouch."),
    ("a giant panda", "a bear", None, "It belongs to the bear family, Ursidae."),
    ("an ostrich", "a bird", "a mammal", "It is the largest living bird."),
    ("a frog", "an amphibian", "a reptile", "It starts life as a tadpole in water."),
    ("a snail", "a mollusk", "an insect", "It is related to clams and octopuses."),
    ("a butterfly", "an insect", None, "It has six legs and three body parts."),
    ("a seal", "a mammal", "a fish", "It breathes air and nurses its pups with milk."),
    ("a snake", "a reptile", None, "It has scaly skin and is cold-blooded."),
    ("an eel", "a fish", "a snake", "It breathes through gills and has fins."),
]

# (name, what it is, habitat, diet, one more fact)
ANIMAL_PROFILES = [
    ("red panda", "a mammal", "the mountain forests of the Himalayas and southwestern China", "bamboo leaves",
     "Despite its name, it is not a close relative of the giant panda."),
    ("emperor penguin", "a bird", "the sea ice around Antarctica", "fish, krill and squid",
     "It is the tallest and heaviest of all living penguins."),
    ("axolotl", "an amphibian", "lakes and canals near Mexico City", "worms, insects and small fish",
     "It can regrow lost limbs."),
    ("snow leopard", "a big cat", "the high mountains of Central Asia", "wild sheep and goats",
     "Its long, thick tail helps it balance and keeps it warm while it rests."),
    ("Komodo dragon", "a lizard", "a few islands in Indonesia", "deer, pigs and carrion",
     "It is the largest living lizard in the world."),
    ("blue whale", "a marine mammal", "oceans all over the world", "tiny shrimp-like animals called krill",
     "It is the largest animal known to have ever lived."),
    ("ruby-throated hummingbird", "a bird", "eastern North America during the summer",
     "flower nectar and small insects", "It beats its wings so fast that it can hover in place."),
    ("three-toed sloth", "a mammal", "the rainforests of Central and South America", "leaves",
     "It moves so slowly that algae grow in its fur."),
    ("common octopus", "a mollusk", "rocky coastal waters", "crabs, clams and small fish",
     "It has three hearts and blue blood."),
    ("Arctic fox", "a mammal", "the Arctic tundra", "lemmings, birds and eggs",
     "Its coat is brown or gray in summer and turns white in winter."),
    ("red kangaroo", "a marsupial", "the dry grasslands of Australia", "grasses and other plants",
     "Females carry their young, called joeys, in a pouch."),
    ("bald eagle", "a bird of prey", "North America near lakes, rivers and coasts", "fish",
     "It is the national bird of the United States."),
    ("platypus", "an egg-laying mammal", "the rivers and streams of eastern Australia",
     "insect larvae, shrimp and worms", "It finds its food underwater by sensing tiny electric signals."),
    ("poison dart frog", "an amphibian", "the rainforests of Central and South America",
     "ants, termites and other small insects", "Its bright colors warn predators that its skin is toxic."),
    ("West Indian manatee", "a marine mammal", "warm coastal waters and rivers around the Caribbean",
     "seagrass and other water plants", "It is sometimes called a sea cow."),
    ("clownfish", "a fish", "coral reefs in the Indian and Pacific Oceans", "algae and tiny plankton",
     "It shelters among sea anemones, whose stings do not harm it."),
    ("barn owl", "a bird", "farmland and grasslands on every continent except Antarctica",
     "mice, voles and other small rodents", "It can find prey in complete darkness using its hearing alone."),
    ("giraffe", "a mammal", "the savannas of Africa", "the leaves of acacia trees",
     "It is the tallest land animal alive today."),
    ("monarch butterfly", "an insect", "meadows and fields across North America",
     "flower nectar, while its caterpillars eat only milkweed",
     "Many monarchs migrate thousands of kilometers to spend the winter in Mexico."),
    ("Galápagos tortoise", "a reptile", "the Galápagos Islands", "grasses, leaves and cactus",
     "Some individuals live for more than 100 years."),
    ("honeybee", "an insect", "gardens, meadows and orchards around the world", "nectar and pollen",
     "Workers tell each other where to find flowers by performing a waggle dance."),
    ("panther chameleon", "a lizard", "the forests of Madagascar", "insects",
     "It can move each of its eyes independently."),
    ("gray wolf", "a mammal", "forests, tundra and grasslands across the Northern Hemisphere",
     "deer, elk and other large animals", "It lives and hunts in family groups called packs."),
    ("sea otter", "a marine mammal", "the coastal waters of the northern Pacific Ocean",
     "sea urchins, crabs and clams", "It sometimes uses rocks as tools to crack open shells."),
]

# (city, country, introduction, where it lies, what it is known for)
CITIES = [
    ("Vienna", "Austria", "the capital of Austria", "on the Danube River",
     "classical music, coffee houses and grand imperial palaces"),
    ("Prague", "the Czech Republic", "the capital of the Czech Republic", "on the Vltava River",
     "Prague Castle and the medieval Charles Bridge"),
    ("Paris", "France", "the capital of France", "on the Seine",
     "the Eiffel Tower, the Louvre museum and its many cafés"),
    ("London", "the United Kingdom", "the capital of the United Kingdom", "on the River Thames",
     "the Tower of London, red double-decker buses and its many museums"),
    ("Cairo", "Egypt", "the capital of Egypt", "on the Nile",
     "its busy historic markets and the nearby pyramids of Giza"),
    ("Budapest", "Hungary", "the capital of Hungary, formed in 1873 by joining Buda and Pest",
     "on the Danube River", "its thermal baths and grand Parliament building"),
    ("Rome", "Italy", "the capital of Italy", "on the Tiber River",
     "the Colosseum, the Pantheon and its many fountains"),
    ("Florence", "Italy", "a city in central Italy and the birthplace of the Renaissance", "on the Arno River",
     "its cathedral dome designed by Brunelleschi and the Uffizi Gallery"),
    ("Seville", "Spain", "a city in southern Spain", "on the Guadalquivir River",
     "flamenco dancing and the Royal Alcázar palace"),
    ("Cologne", "Germany", "a city in western Germany", "on the Rhine",
     "its huge Gothic cathedral, which took more than 600 years to finish"),
    ("Hamburg", "Germany", "a port city in northern Germany", "on the Elbe River",
     "its busy port and its many canals and bridges"),
    ("Lisbon", "Portugal", "the capital of Portugal", "at the mouth of the Tagus River",
     "its yellow trams, tiled buildings and steep hills"),
    ("Warsaw", "Poland", "the capital of Poland", "on the Vistula River",
     "its Old Town, which was carefully rebuilt after World War II"),
    ("Dublin", "Ireland", "the capital of Ireland", "on the River Liffey",
     "its literary history and Trinity College, home of the Book of Kells"),
    ("Bangkok", "Thailand", "the capital of Thailand", "on the Chao Phraya River",
     "its ornate temples, floating markets and street food"),
    ("Montreal", "Canada", "the largest city in the Canadian province of Quebec",
     "on an island in the Saint Lawrence River", "its French-speaking culture and summer festivals"),
    ("Baghdad", "Iraq", "the capital of Iraq", "on the Tigris River",
     "its long history as a center of learning during the Islamic Golden Age"),
    ("Belgrade", "Serbia", "the capital of Serbia", "where the Sava River meets the Danube",
     "its riverside fortress and lively nightlife"),
    ("Kyiv", "Ukraine", "the capital of Ukraine", "on the Dnipro River",
     "Saint Sophia Cathedral and its golden-domed monasteries"),
    ("Shanghai", "China", "a major port city on China's east coast", "on the Huangpu River",
     "its riverside promenade, the Bund, and its modern skyscrapers"),
]

# (name, pronoun, born, died, description, best known for, one more fact, topic)
PEOPLE = [
    ("Marie Curie", "she", 1867, 1934, "a Polish-born physicist and chemist who worked in France",
     "her pioneering research on radioactivity",
     "She was the first person to win Nobel Prizes in two different sciences.", "science"),
    ("Ada Lovelace", "she", 1815, 1852, "an English mathematician",
     "her notes on Charles Babbage's proposed Analytical Engine",
     "She is often called the first computer programmer.", "science"),
    ("Leonardo da Vinci", "he", 1452, 1519, "an Italian painter, engineer and inventor",
     "paintings such as the Mona Lisa and The Last Supper",
     "His notebooks are full of designs for flying machines.", "arts"),
    ("Wolfgang Amadeus Mozart", "he", 1756, 1791, "an Austrian composer",
     "operas such as The Magic Flute and The Marriage of Figaro",
     "He wrote more than 600 works in his short life.", "music"),
    ("Charles Darwin", "he", 1809, 1882, "an English naturalist",
     "the theory of evolution by natural selection",
     "He described it in his 1859 book On the Origin of Species.", "science"),
    ("Frida Kahlo", "she", 1907, 1954, "a Mexican painter", "her vivid self-portraits",
     "Her home in Mexico City, the Blue House, is now a museum.", "arts"),
    ("Nelson Mandela", "he", 1918, 2013, "a South African anti-apartheid leader",
     "his long fight against racial segregation",
     "In 1994 he became the first Black president of South Africa.", "history"),
    ("Galileo Galilei", "he", 1564, 1642, "an Italian astronomer and physicist",
     "using a telescope to study the night sky",
     "He discovered the four largest moons of Jupiter.", "science"),
    ("Jane Austen", "she", 1775, 1817, "an English novelist",
     "novels such as Pride and Prejudice and Emma",
     "Her books were first published without her name on them.", "arts"),
    ("Louis Pasteur", "he", 1822, 1895, "a French chemist and microbiologist",
     "pasteurization and early vaccines",
     "His work showed that many diseases are caused by germs.", "science"),
    ("Nikola Tesla", "he", 1856, 1943, "a Serbian-American inventor and engineer",
     "his work on alternating current electrical systems",
     "The tesla, a unit of magnetic flux density, is named after him.", "science"),
    ("Rosalind Franklin", "she", 1920, 1958, "an English chemist",
     "X-ray images that helped reveal the double-helix structure of DNA",
     "Her best-known image of DNA is called Photo 51.", "science"),
    ("Mahatma Gandhi", "he", 1869, 1948, "an Indian lawyer and political leader",
     "leading non-violent resistance to British rule in India",
     "His 1930 Salt March drew attention around the world.", "history"),
    ("Amelia Earhart", "she", 1897, 1937, "an American aviator",
     "being the first woman to fly solo across the Atlantic Ocean",
     "She disappeared over the Pacific Ocean in 1937.", "history"),
    ("Florence Nightingale", "she", 1820, 1910, "an English nurse and statistician",
     "founding modern nursing",
     "She became famous for caring for soldiers during the Crimean War.", "history"),
    ("Albert Einstein", "he", 1879, 1955, "a German-born theoretical physicist",
     "his theories of relativity",
     "He won the 1921 Nobel Prize in Physics for explaining the photoelectric effect.", "science"),
    ("William Shakespeare", "he", 1564, 1616, "an English playwright and poet",
     "plays such as Hamlet, Macbeth and Romeo and Juliet",
     "He also wrote 154 sonnets.", "arts"),
    ("Katherine Johnson", "she", 1918, 2020, "an American mathematician who worked at NASA",
     "calculating flight paths for early American spaceflights",
     "Her story was told in the 2016 film Hidden Figures.", "science"),
    ("Alexander Fleming", "he", 1881, 1955, "a Scottish doctor and microbiologist",
     "discovering penicillin in 1928",
     "His discovery led to the first widely used antibiotic.", "science"),
    ("Ludwig van Beethoven", "he", 1770, 1827, "a German composer and pianist", "his nine symphonies",
     "He kept composing even after he became almost completely deaf.", "music"),
]

# (dish, ingredients, method, total time, one-sentence summary)
RECIPES = [
    ("scrambled eggs", ["four eggs", "a knob of butter", "a pinch of salt"],
     "Whisk the eggs with the salt, then stir them gently in the melted butter over low heat until just set.",
     "five minutes", "Whisk eggs with salt and stir them gently in melted butter over low heat until just set."),
    ("porridge", ["rolled oats", "milk", "a pinch of salt"],
     "Simmer the oats in the milk with the salt, stirring often, until thick and creamy.",
     "ten minutes", "Simmer oats in salted milk, stirring often, until thick and creamy."),
    ("tomato soup", ["tomatoes", "an onion", "two garlic cloves", "vegetable stock"],
     "Soften the onion and garlic in oil, add the tomatoes and stock, simmer for 20 minutes and blend until smooth.",
     "30 minutes", "Cook onion and garlic, simmer them with tomatoes and stock, then blend the soup smooth."),
    ("boiled rice", ["white rice", "water", "salt"],
     "Rinse the rice, bring it to a boil in salted water, then cover and simmer on low heat until the water is absorbed.",
     "20 minutes", "Rinse the rice, boil it in salted water, then simmer it covered until the water is absorbed."),
    ("banana bread", ["three ripe bananas", "flour", "sugar", "two eggs", "melted butter"],
     "Mash the bananas, mix in the other ingredients and bake the batter in a loaf tin at 180 °C.",
     "one hour and ten minutes", "Mash bananas, mix them with the other ingredients and bake the batter in a loaf tin."),
    ("hummus", ["canned chickpeas", "tahini", "lemon juice", "garlic"],
     "Blend everything with a splash of cold water until smooth, then season with salt.",
     "ten minutes", "Blend chickpeas, tahini, lemon juice and garlic with a little water until smooth."),
    ("pancake", ["flour", "milk", "eggs", "a pinch of salt"],
     "Whisk everything into a smooth batter and fry thin ladlefuls in a hot greased pan, flipping each once.",
     "25 minutes", "Whisk a smooth batter and fry thin pancakes in a hot greased pan, flipping each once."),
    ("roast potato", ["potatoes", "olive oil", "salt", "fresh rosemary"],
     "Cut the potatoes into chunks, toss them in the oil, salt and rosemary and roast in a hot oven until golden.",
     "50 minutes", "Toss potato chunks in oil, salt and rosemary and roast them in a hot oven until golden."),
    ("lemonade", ["four lemons", "sugar", "cold water", "ice"],
     "Squeeze the lemons, stir the juice with the sugar until it dissolves, then top up with cold water and ice.",
     "ten minutes", "Stir fresh lemon juice with sugar and top it up with cold water and ice."),
    ("cheese omelette", ["three eggs", "butter", "grated cheese"],
     "Pour the beaten eggs into the melted butter, let them set, sprinkle over the cheese and fold in half.",
     "five minutes", "Set beaten eggs in melted butter, add cheese and fold the omelette in half."),
    ("garlic bread", ["a baguette", "soft butter", "crushed garlic", "chopped parsley"],
     "Mix the butter, garlic and parsley, spread it into cuts along the baguette and bake until crisp.",
     "15 minutes", "Spread garlic and parsley butter into a sliced baguette and bake it until crisp."),
    ("fruit salad", ["apples", "grapes", "oranges", "strawberries", "a squeeze of lemon"],
     "Chop the fruit into bite-sized pieces and toss everything with the lemon juice.",
     "15 minutes", "Chop the fruit into bite-sized pieces and toss it with lemon juice."),
    ("guacamole", ["two ripe avocados", "lime juice", "finely chopped onion", "salt"],
     "Mash the avocados with a fork, then stir in the lime juice, onion and salt.",
     "ten minutes", "Mash avocados and stir in lime juice, chopped onion and salt."),
]

# Classification schemes: (topic, instruction lead, {label: (singular, plural, items)})
CLASSIFY_SCHEMES = [
    ("cooking", "Classify each of these as a fruit or a vegetable", {
        "fruit": ("a fruit", "fruits", ["apple", "banana", "mango", "pear", "cherry", "pineapple"]),
        "vegetable": ("a vegetable", "vegetables", ["carrot", "spinach", "broccoli", "potato", "onion", "cabbage"]),
    }),
    ("science", "Classify each substance as a solid, a liquid or a gas at room temperature", {
        "solid": ("a solid", "solids", ["iron", "salt", "sand", "wood", "gold"]),
        "liquid": ("a liquid", "liquids", ["water", "olive oil", "mercury", "milk", "vinegar"]),
        "gas": ("a gas", "gases", ["oxygen", "helium", "nitrogen", "carbon dioxide", "neon"]),
    }),
    ("sports", "Classify each of these as a team sport or an individual sport", {
        "team": ("a team sport", "team sports", ["soccer", "basketball", "volleyball", "rugby", "baseball"]),
        "solo": ("an individual sport", "individual sports", ["golf", "archery", "boxing", "figure skating", "high jump"]),
    }),
    ("music", "Classify each instrument as a string, wind or percussion instrument", {
        "string": ("a string instrument", "string instruments", ["violin", "cello", "harp", "guitar"]),
        "wind": ("a wind instrument", "wind instruments", ["flute", "clarinet", "trumpet", "oboe"]),
        "percussion": ("a percussion instrument", "percussion instruments", ["drum", "xylophone", "tambourine", "triangle"]),
    }),
    ("animals", "Classify each animal as a mammal, a bird, a fish or a reptile", {
        "mammal": ("a mammal", "mammals", ["dolphin", "bat", "horse", "elephant"]),
        "bird": ("a bird", "birds", ["eagle", "penguin", "owl", "parrot"]),
        "fish": ("a fish", "fish", ["salmon", "shark", "tuna", "trout"]),
        "reptile": ("a reptile", "reptiles", ["lizard", "crocodile", "snake", "turtle"]),
    }),
    ("geography", "Classify these countries by continent", {
        continent: (f"in {continent}", f"in {continent}", [c for c, _, _, k in CAPITALS if k == continent])
        for continent in ("Europe", "Asia", "Africa", "South America", "North America", "Oceania")
    }),
    ("maths", "Classify each number as even or odd", {
        "even": ("even", "even", ["12", "34", "58", "76", "90", "104"]),
        "odd": ("odd", "odd", ["15", "27", "41", "63", "89", "117"]),
    }),
    ("science", "Classify each energy source as renewable or non-renewable", {
        "renewable": ("a renewable source", "renewable sources",
                      ["solar power", "wind power", "hydropower", "geothermal energy"]),
        "fossil": ("a non-renewable source", "non-renewable sources", ["coal", "oil", "natural gas"]),
    }),
]

POLYGONS = [("triangle", 3), ("quadrilateral", 4), ("pentagon", 5), ("hexagon", 6), ("heptagon", 7),
            ("octagon", 8), ("nonagon", 9), ("decagon", 10), ("dodecagon", 12)]
NUMBER_WORDS = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
                10: "ten", 12: "twelve"}


# --------------------------------------------------------------------------
# Composition: tables -> facts
# --------------------------------------------------------------------------

def plain_qa_facts() -> list[Fact]:
    return [Fact(cat, topic, q, a, alt=alt, wrong=wrong) for cat, topic, q, a, alt, wrong in PLAIN_QA]


def brainstorm_facts(rng: random.Random) -> list[Fact]:
    facts = []
    for topic, instruction, lead, conj, ideas in BRAINSTORMS:
        first, second = rng.sample(ideas, 3), rng.sample(ideas, 3)
        while set(second) == set(first):
            second = rng.sample(ideas, 3)
        facts.append(Fact("brainstorming", topic, instruction, f"{lead} {join(first, conj)}.",
                          alt=f"{lead} {join(second, conj)}."))
    return facts


def passage_facts() -> list[Fact]:
    return [Fact(cat, topic, q, a, context=context, alt=alt, wrong=wrong)
            for topic, context, questions in PASSAGES
            for cat, q, a, alt, wrong in questions]


def capital_facts(rng: random.Random) -> list[Fact]:
    templates = ("What is the capital of {c}?", "Which city is the capital of {c}?", "Name the capital city of {c}.")
    return [Fact("open_qa", "geography", rng.choice(templates).format(c=country),
                 f"{capital} is the capital of {country}.",
                 alt=f"The capital of {country} is {capital}.",
                 wrong=f"{decoy} is the capital of {country}.",
                 subject=f"the capital of {country}")
            for country, capital, decoy, _ in CAPITALS]


def element_facts(rng: random.Random) -> list[Fact]:
    templates = ("What is the chemical symbol for {e}?", "Which symbol stands for {e} on the periodic table?")
    facts = []
    for element, symbol, decoy, latin in ELEMENTS:
        answer = f"The chemical symbol for {element} is {symbol}."
        if latin:
            answer = f"The chemical symbol for {element} is {symbol}, from the Latin word {latin}."
        facts.append(Fact("open_qa", "science", rng.choice(templates).format(e=element), answer,
                          alt=f"{symbol} is the symbol for {element} on the periodic table.",
                          wrong=f"The chemical symbol for {element} is {decoy}.",
                          subject=f"the symbol for {element}"))
    return facts


def animal_kind_facts() -> list[Fact]:
    facts = []
    for animal, kind, mixup, note in ANIMAL_KINDS:
        facts.append(Fact("classification", "animals", f"Is {animal} {kind}?",
                          f"Yes. {cap(animal)} is {kind}. {note}",
                          alt=f"Yes, {animal} is {kind}; {lower_first(note)}",
                          wrong=f"No, {animal} is not {kind}."))
        if mixup:
            facts.append(Fact("classification", "animals", f"Is {animal} {mixup}?",
                              f"No. {cap(animal)} is {kind}, not {mixup}. {note}",
                              alt=f"No, {animal} is not {mixup}. It is {kind}.",
                              wrong=f"Yes, {animal} is {mixup}."))
    return facts


def maths_facts(rng: random.Random) -> list[Fact]:
    facts = []
    pairs = sorted({tuple(sorted(rng.sample(range(3, 13), 2))) for _ in range(30)})
    for a, b in rng.sample(pairs, 12):
        question = rng.choice(("What is {a} times {b}?", "What is {a} multiplied by {b}?", "Calculate {a} × {b}."))
        p = a * b
        facts.append(Fact("open_qa", "maths", question.format(a=a, b=b), f"{a} times {b} is {p}.",
                          alt=f"{p}. Multiplying {a} by {b} gives {p}.",
                          wrong=f"{a} times {b} is {p + rng.choice((-a, a, -b, b, 10))}."))
    for n in rng.sample(range(11, 21), 8):
        facts.append(Fact("open_qa", "maths", f"What is {n} squared?", f"{n} squared is {n * n}.",
                          alt=f"{n * n}, because {n} × {n} = {n * n}.", wrong=f"{n} squared is {2 * n}."))
    for n in rng.sample([n for n in range(21, 100, 2) if n % 5], 10):
        factor = next((d for d in range(3, n) if n % d == 0), None)
        if factor is None:
            fact = Fact("general_qa", "maths", f"Is {n} a prime number?",
                        f"Yes. {n} is prime because its only divisors are 1 and itself.",
                        alt=f"Yes, {n} is a prime number.", wrong=f"No, {n} is not a prime number.")
        else:
            fact = Fact("general_qa", "maths", f"Is {n} a prime number?",
                        f"No. {n} is not prime because it equals {factor} times {n // factor}.",
                        alt=f"No, {n} can be divided by {factor}, so it is not prime.",
                        wrong=f"Yes, {n} is a prime number.")
        facts.append(fact)
    for name, sides in POLYGONS:
        facts.append(Fact("open_qa", "maths", f"How many sides does {article(name)} have?",
                          f"{cap(article(name))} has {sides} sides.",
                          alt=f"{cap(NUMBER_WORDS[sides])}. {cap(article(name))} is a polygon with {NUMBER_WORDS[sides]} sides.",
                          wrong=f"{cap(article(name))} has {sides + 1} sides."))
    percents = [(p, b) for p in (10, 20, 25, 50, 75) for b in (40, 60, 80, 120, 200, 240, 300, 400, 800)]
    for p, b in rng.sample(percents, 10):
        r = p * b // 100
        facts.append(Fact("open_qa", "maths", f"What is {p}% of {b}?", f"{p}% of {b} is {r}.",
                          alt=f"{r}, because {b} × {p} / 100 = {r}.", wrong=f"{p}% of {b} is {r + p}."))
    return facts


def classification_facts(rng: random.Random, per_scheme: int = 5) -> list[Fact]:
    facts = []
    for topic, lead, labels in CLASSIFY_SCHEMES:
        items = [(item, label) for label, (_, _, names) in labels.items() for item in names]
        seen = set()
        while len(seen) < per_scheme:
            chosen = rng.sample(items, rng.choice((3, 3, 4)))
            key = frozenset(chosen)
            if len({label for _, label in chosen}) < 2 or key in seen:
                continue
            seen.add(key)
            facts.append(classification_fact(topic, lead, labels, chosen, rng))
    return facts


def classification_fact(topic, lead, labels, chosen, rng) -> Fact:
    def statement(pairs):
        return cap(join(f"{item} is {labels[label][0]}" for item, label in pairs)) + "."

    # Alternative wording: group items that share a label.
    groups = {}
    for item, label in chosen:
        groups.setdefault(label, []).append(item)
    parts = [f"{join(items)} {'are' if len(items) > 1 else 'is'} {labels[label][1 if len(items) > 1 else 0]}"
             for label, items in groups.items()]
    alt = cap(", while ".join(parts) if len(parts) == 2 else "; ".join(parts)) + "."

    slip = rng.randrange(len(chosen))
    wrong_label = rng.choice([label for label in labels if label != chosen[slip][1]])
    wrong_pairs = [(item, wrong_label if i == slip else label) for i, (item, label) in enumerate(chosen)]
    return Fact("classification", topic, f"{lead}: {', '.join(item for item, _ in chosen)}.",
                statement(chosen), alt=alt, wrong=statement(wrong_pairs))


def animal_profile_facts(rng: random.Random) -> list[Fact]:
    facts = []
    for name, kind, habitat, diet, note in ANIMAL_PROFILES:
        others = [p for p in ANIMAL_PROFILES if p[0] != name]
        context = f"The {name} is {kind} that lives in {habitat}. It feeds mainly on {diet}. {note}"
        the = f"the {name}"
        facts += [
            Fact("closed_qa", "animals", f"What does {the} eat?", f"The {name} feeds mainly on {diet}.",
                 context=context, alt=f"Mainly {diet}.",
                 wrong=f"The {name} feeds mainly on {rng.choice(others)[3]}.", subject=the),
            Fact("closed_qa", "animals", f"Where does {the} live?", f"The {name} lives in {habitat}.",
                 context=context, alt=f"It lives in {habitat}.",
                 wrong=f"The {name} lives in {rng.choice(others)[2]}.", subject=the),
            Fact("information_extraction", "animals", f"What kind of animal is {the}, according to the passage?",
                 f"The {name} is {kind}. {note}", context=context, alt=f"It is {kind}.", subject=the),
            Fact("summarization", "animals", f"Give a one-sentence summary of this passage about {the}.",
                 f"The {name} is {kind} living in {habitat} that feeds mainly on {diet}.",
                 context=context, alt=f"This passage describes {the}, {kind} that eats {diet}.", subject=the),
        ]
    return facts


def city_facts(rng: random.Random) -> list[Fact]:
    facts = []
    for city, country, intro, where, known in CITIES:
        others = [c for c in CITIES if c[0] != city]
        context = f"{city} is {intro}. The city lies {where}. It is known for {known}."
        facts += [
            Fact("closed_qa", "geography", f"Which river is {city} on?", f"{city} lies {where}.",
                 context=context, alt=f"It lies {where}.", wrong=f"{city} lies {rng.choice(others)[3]}.",
                 subject=city),
            Fact("information_extraction", "geography", f"What is {city} known for?",
                 f"{city} is known for {known}.", context=context, alt=f"It is known for {known}.",
                 wrong=f"{city} is known for {rng.choice(others)[4]}.", subject=city),
            Fact("closed_qa", "geography", f"In which country is {city}?", f"{city} is in {country}.",
                 context=context, alt=f"It is in {country}.",
                 wrong=f"{city} is in {rng.choice([c for c in others if c[1] != country])[1]}.", subject=city),
            Fact("summarization", "geography", f"Summarize this passage about {city} in one sentence.",
                 f"{city}, {intro}, lies {where} and is known for {known}.", context=context, subject=city),
        ]
    return facts


def people_facts(rng: random.Random) -> list[Fact]:
    facts = []
    for name, pronoun, born, died, description, known, note, topic in PEOPLE:
        others = [p for p in PEOPLE if p[0] != name]
        context = f"{name} ({born}–{died}) was {description}. {cap(pronoun)} is best known for {known}. {note}"
        facts += [
            Fact("information_extraction", topic, f"When was {name} born?", f"{name} was born in {born}.",
                 context=context, alt=f"In {born}. {cap(pronoun)} lived from {born} to {died}.",
                 wrong=f"{name} was born in {born + rng.choice((-31, -12, 7, 19))}.", subject=name),
            Fact("closed_qa", topic, f"What is {name} best known for?", f"{name} is best known for {known}.",
                 context=context, alt=f"{cap(pronoun)} is best known for {known}.",
                 wrong=f"{name} is best known for {rng.choice(others)[5]}.", subject=name),
            Fact("summarization", topic, "Summarize this short biography in one sentence.",
                 f"{name} was {description}, best known for {known}.", context=context,
                 alt=f"The text describes {name}, {description}.", subject=name),
        ]
    return facts


def recipe_facts(rng: random.Random) -> list[Fact]:
    facts = []
    for dish, ingredients, method, time, summary in RECIPES:
        others = [r for r in RECIPES if r[3] != time]
        context = f"This {dish} recipe uses {join(ingredients)}. {method} It takes about {time} in total."
        facts += [
            Fact("information_extraction", "cooking", f"Which ingredients does this {dish} recipe use?",
                 f"The recipe uses {join(ingredients)}.", context=context, alt=f"You need {join(ingredients)}."),
            Fact("closed_qa", "cooking", f"How long does this {dish} recipe take?",
                 f"It takes about {time} in total.", context=context, alt=f"About {time} from start to finish.",
                 wrong=f"It takes about {rng.choice(others)[3]} in total."),
            Fact("summarization", "cooking", f"Summarize the {dish} recipe in one sentence.", summary,
                 context=context),
        ]
    return facts


def select_facts(rng: random.Random) -> list[Fact]:
    """All hand-written facts, topped up from the table-built ones to the target size.

    The toad example goes first, so it is always ``sample-0001``.
    """
    fixed_plain = plain_qa_facts() + brainstorm_facts(rng)
    pool_plain = (capital_facts(rng) + element_facts(rng) + animal_kind_facts() + maths_facts(rng)
                  + classification_facts(rng))
    fixed_context = passage_facts()
    pool_context = animal_profile_facts(rng) + city_facts(rng) + people_facts(rng) + recipe_facts(rng)

    n_plain = round(N_RECORDS * NO_CONTEXT_SHARE)
    plain = fixed_plain + rng.sample(pool_plain, n_plain - len(fixed_plain))
    context = fixed_context[1:] + rng.sample(pool_context, N_RECORDS - n_plain - len(fixed_context))
    rest = plain + context
    rng.shuffle(rest)
    return [fixed_context[0]] + rest


# --------------------------------------------------------------------------
# Weaker original responses
# --------------------------------------------------------------------------

HEDGES = (
    "I am not sure, maybe you should look it up.",
    "Honestly, I don't know. You could try searching online.",
    "That's a hard one. It depends on a lot of things, really.",
    "I'd rather not guess about {subject}. Maybe ask someone who knows more.",
    "No idea, sorry. A book or a website would probably tell you.",
    "Good question! I have never really thought about {subject}",
    "It could be a few different things. Hard to say without checking",
    "I'm not the best person to ask about that, to be honest",
    "Hmm, I think it varies. You should probably check a reliable source.",
)
RAMBLE_FILLERS = ("you know", "basically", "I mean", "like I said", "the thing is", "in a way", "sort of")
RAMBLE_OPENERS = ("Well", "So", "Okay so", "Hmm", "Right")
TRAIL_ENDINGS = ("", " um", ", uh", ", um, well", "... hmm")
WRONG_TEMPLATES = (
    "{w} At least I think so.",
    "{w} I could be wrong, though.",
    "{s}, I believe. Don't quote me on that.",
    "If I remember right: {w}",
    "{s}? I think so, anyway.",
    "Not completely sure, but: {w}",
)


def hedge(fact: Fact, rng: random.Random) -> str:
    return rng.choice(HEDGES).format(subject=fact.subject or "this")


def ramble(fact: Fact, rng: random.Random) -> str:
    p, q = rng.sample(RAMBLE_FILLERS, 2)
    opener = rng.choice(RAMBLE_OPENERS)

    def say(phrase, times):
        return ", ".join([phrase] * times)

    templates = [
        f"{opener}, {say(p, rng.randint(3, 5))}, it is, it is, it is kind of hard to say, {say(q, 2)}...",
        f"Let me think, let me think, let me think. {cap(say(p, 3))}, the answer is, the answer is, "
        f"the answer is, {say(q, 2)}",
        f"{opener}, {say(p, 2)}, there are many, many, many things to say, to say, to say about "
        f"{fact.subject or 'this'}, {say(q, 3)}",
    ]
    if fact.subject:
        s = fact.subject
        templates.append(f"{cap(s)}? {cap(s)}, {s}... so, {s} is, {s} is, {say(p, 2)}, {s} is, well")
    return rng.choice(templates)


def trail_off(fact: Fact, rng: random.Random) -> str:
    """The start of the good answer, abandoned mid-sentence."""
    tokens = fact.answer.split()
    keep = min(len(tokens) - 1, max(3, round(len(tokens) * rng.uniform(0.5, 0.8))))
    return " ".join(tokens[:keep]).rstrip(".,;:") + rng.choice(TRAIL_ENDINGS)


def copy_context(context: str) -> str:
    """The context itself, verbatim, cut at a sentence boundary to fit the response limit."""
    kept = []
    for sentence in sentences(context):
        if kept and count_words(" ".join(kept + [sentence])) > MAX_WORDS["response"]:
            break
        kept.append(sentence)
    return " ".join(kept)


def hedged_wrong(fact: Fact, rng: random.Random) -> str:
    return rng.choice(WRONG_TEMPLATES).format(w=fact.wrong, s=fact.wrong.rstrip("."))


def weak_response(fact: Fact, context: str | None, rng: random.Random) -> str:
    kinds = ["hedge", "ramble", "trail"] + (["copy"] if context else []) + (["wrong"] if fact.wrong else [])
    kind = rng.choice(kinds)
    if kind == "hedge":
        return hedge(fact, rng)
    if kind == "ramble":
        return ramble(fact, rng)
    if kind == "trail":
        return trail_off(fact, rng)
    if kind == "copy":
        return copy_context(context)
    return hedged_wrong(fact, rng)


# --------------------------------------------------------------------------
# Noise in the original that annotators fix
# --------------------------------------------------------------------------

CLARIFY_PREFIXES = ("Answer based on the text: ", "Using the passage, answer: ", "According to the reference text: ")


def add_typo(text: str, rng: random.Random) -> str:
    """Swap, drop or double one letter inside a longer word."""
    candidates = [m for m in re.finditer(r"[A-Za-z]{5,}", text)
                  if any(m.group()[i] != m.group()[i + 1] for i in range(1, len(m.group()) - 2))]
    if not candidates:
        return text
    match = rng.choice(candidates)
    word, start = match.group(), match.start()
    i = rng.choice([i for i in range(1, len(word) - 2) if word[i] != word[i + 1]])
    typo = rng.choice((
        word[:i] + word[i + 1] + word[i] + word[i + 2:],  # swap
        word[:i] + word[i + 1:],                            # drop
        word[:i] + word[i] + word[i:],                      # double
    ))
    return text[:start] + typo + text[start + len(word):]


def add_citations(context: str, rng: random.Random) -> str:
    """Append "[1]"-style markers to one or two sentences, numbered in reading order."""
    parts = sentences(context)
    marked = sorted(rng.sample(range(len(parts)), min(len(parts), rng.choice((1, 1, 2)))))
    for number, index in enumerate(marked, start=1):
        parts[index] += f"[{number}]"
    return " ".join(parts)


def strip_citations(context: str) -> str:
    return CITATION.sub("", context)


def clarified(fact: Fact, rng: random.Random) -> str:
    """Annotators sometimes point an extractive question at the text explicitly."""
    explicit = "passage" in fact.instruction or "text" in fact.instruction
    if fact.category in ("closed_qa", "information_extraction") and not explicit and rng.random() < 0.25:
        return rng.choice(CLARIFY_PREFIXES) + fact.instruction
    return fact.instruction


# --------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------

def assign_plans(facts: list[Fact], rng: random.Random) -> list[str]:
    """One plan per fact with the shares in PLAN_SHARES; the first record stays plainly submitted."""
    n = len(facts)
    counts = {plan: round(n * share) for plan, share in PLAN_SHARES.items()}
    order = list(range(1, n))
    rng.shuffle(order)
    plans = ["submitted"] * n
    pair = [i for i in order if facts[i].alt][:counts.pop("pair")]
    for i in pair:
        plans[i] = "pair"
    rest = iter(i for i in order if plans[i] == "submitted")
    for plan, count in counts.items():
        for _ in range(count):
            plans[next(rest)] = plan
    return plans


def suggestion_columns(question: str) -> dict:
    return {f"{question}-suggestion": None,
            f"{question}-suggestion-metadata": {"type": None, "score": None, "agent": None}}


def build_record(number: int, fact: Fact, plan: str, rng: random.Random) -> dict:
    unchanged = plan == "unchanged"
    original_instruction = fact.instruction
    original_context = fact.context
    if not unchanged:
        if rng.random() < 0.10:
            original_instruction = add_typo(fact.instruction, rng)
        if fact.context and rng.random() < 0.30:
            original_context = add_citations(fact.context, rng)
    original_response = fact.answer if unchanged else weak_response(fact, original_context, rng)

    new_instruction = original_instruction if unchanged else clarified(fact, rng)
    new_context = strip_citations(original_context) if original_context else ""
    if plan == "none":
        annotations = []
    elif plan == "pair":
        annotations = list(zip(rng.sample(ANNOTATORS, 2), ("submitted", "submitted"), (fact.answer, fact.alt)))
    else:
        response = original_response if unchanged else fact.answer
        annotations = [(rng.choice(ANNOTATORS), PLAN_STATUS[plan], response)]

    record = {
        "original-instruction": original_instruction,
        "original-context": original_context,
        "original-response": original_response,
    }
    for question in QUESTIONS:
        record[question] = []
        record.update(suggestion_columns(question))
    for user, status, answer in annotations:
        for question, value in zip(QUESTIONS, (new_instruction, new_context, answer)):
            record[question].append({"user_id": user, "value": value, "status": status})
    record["external_id"] = f"sample-{number:04d}"
    record["metadata"] = json.dumps({"category": fact.category, "topic": fact.topic})
    return record


def validate(facts: list[Fact]) -> None:
    """Catch data-table mistakes early: length limits, duplicates, answer style."""
    seen = set()
    for fact in facts:
        key = (fact.instruction, fact.context)
        assert key not in seen, f"duplicate fact: {fact.instruction}"
        seen.add(key)
        assert count_words(fact.instruction) + 5 <= MAX_WORDS["instruction"], fact.instruction
        assert fact.context is None or count_words(fact.context) <= MAX_WORDS["context"], fact.context
        for text in (fact.answer, fact.alt):
            assert text is None or (text.endswith(".") and count_words(text) <= MAX_WORDS["response"]), text


def generate(seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    facts = select_facts(rng)
    validate(facts)
    plans = assign_plans(facts, rng)
    records = [build_record(i, fact, plan, rng) for i, (fact, plan) in enumerate(zip(facts, plans), start=1)]
    for record in records:
        assert count_words(record["original-response"]) <= MAX_WORDS["response"], record["original-response"]
    return records


def main() -> None:
    records = generate()
    with OUTPUT.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} records to {OUTPUT}")


if __name__ == "__main__":
    main()
