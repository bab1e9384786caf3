#!/usr/bin/env python3
"""Generate ``records.jsonl``, the small feedback dataset bundled with rlhf.

Why it exists: the app, its tests and the tiny offline starter model need a
dataset that works without network access, has exactly the layout of Argilla
1.x ``FeedbackDataset.format_as("datasets")`` for
``argilla/databricks-dolly-15k-curated-en``, and carries a preference signal a
two-layer model can pick up in seconds. All text here was written for this
project.

How records are built:

* Data tables in ``tools/sample/*.json`` hold general-knowledge facts
  (``hand_written.json``: question and answer pairs, brainstorming prompts and
  short passages; ``tables.json``: capitals, elements, animals, cities, people,
  recipes and classification schemes that small functions here turn into
  questions; ``phrases.json``: the wordings of the weaker responses).
* Each fact becomes one record. ``original-*`` holds a deliberately weaker
  response (a hedge, a ramble, a verbatim copy of the context, a hedged wrong
  answer, or a sentence that trails off) and, sometimes, an instruction typo
  or "[1]"-style citation markers in the context.
* Annotators' ``new-*`` answers hold the fix: the clean instruction and
  context and a direct, correct, one-to-two-sentence answer ending in a period.
* The annotation plan (submitted, two annotators, discarded, draft, no
  responses, unchanged) is drawn with fixed shares.

Everything comes from ``random.Random(SEED)``, so running
``python tools/make_sample.py`` rewrites ``rlhf/data/sample/records.jsonl``
byte for byte. Standard library only. The tool is not part of the package:
rlhf ships only the generated ``records.jsonl``.
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
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "rlhf" / "data" / "sample" / "records.jsonl"
TABLES = Path(__file__).resolve().parent / "sample"

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
# The data tables, read from tools/sample/*.json
# --------------------------------------------------------------------------

# The fields of each table's rows, in the order the functions below unpack them (None: a list of strings).
FIELDS: dict[str, tuple[str, ...] | None] = {
    # hand_written.json: facts without context; brainstorming (answers name three of the ideas); passages
    "plain_qa": ("category", "topic", "instruction", "answer", "alt", "wrong"),
    "brainstorms": ("topic", "instruction", "lead", "conjunction", "ideas"),
    "passages": ("topic", "context", "questions"),
    "passage_questions": ("category", "instruction", "answer", "alt", "wrong"),
    # tables.json: tables that small functions turn into questions
    "capitals": ("country", "capital", "decoy", "continent"),  # decoy: a city often mistaken for the capital
    "elements": ("element", "symbol", "decoy", "latin"),       # latin: the name the symbol comes from, or null
    "animal_kinds": ("animal", "kind", "mixup", "note"),       # mixup: a common confusion, or null
    "animal_profiles": ("name", "kind", "habitat", "diet", "note"),
    "cities": ("city", "country", "intro", "where", "known_for"),
    "people": ("name", "pronoun", "born", "died", "description", "known_for", "note", "topic"),
    "recipes": ("dish", "ingredients", "method", "time", "summary"),
    # labels: {label: {singular, plural, items}}, or labels_by_continent_of_capitals: [continent, ...]
    "classification_schemes": ("topic", "lead", "labels", "labels_by_continent_of_capitals"),
    "polygons": ("name", "sides", "sides_word"),
    # phrases.json: the wordings of weaker original responses, and of annotators' clarifications
    "hedges": None, "ramble_fillers": None, "ramble_openers": None, "trail_endings": None,
    "wrong_templates": None, "clarify_prefixes": None,
}


def table_rows(table: str, items: list[dict]) -> list[tuple]:
    """The rows of one table as tuples in ``FIELDS`` order; a key that is not a field is an error (a typo in a
    JSON file must not pass silently), an absent one is None."""
    fields = FIELDS[table]
    for item in items:
        unknown = set(item) - set(fields)
        assert not unknown, f"{table}: unknown keys {sorted(unknown)} (the fields are {fields})"
    return [tuple(item.get(field) for field in fields) for item in items]


def load_tables(folder: Path = TABLES) -> dict[str, list]:
    """Every table of ``folder``'s JSON files, by name."""
    found: dict[str, list] = {}
    for name in ("hand_written", "tables", "phrases"):
        found.update(json.loads((folder / f"{name}.json").read_text(encoding="utf-8")))
    assert set(found) == set(FIELDS) - {"passage_questions"}, sorted(set(found) ^ set(FIELDS))
    tables = {name: items if FIELDS[name] is None else table_rows(name, items) for name, items in found.items()}
    tables["passages"] = [(topic, context, table_rows("passage_questions", questions))
                          for topic, context, questions in tables["passages"]]
    schemes = []
    for topic, lead, labels, continents in tables["classification_schemes"]:
        if continents:  # one label per continent; its items are the countries of the capitals table
            labels = {continent: (f"in {continent}", f"in {continent}",
                                  [country for country, _, _, where in tables["capitals"] if where == continent])
                      for continent in continents}
        else:
            labels = {label: (v["singular"], v["plural"], v["items"]) for label, v in labels.items()}
        schemes.append((topic, lead, labels))
    tables["classification_schemes"] = schemes
    return tables


TABLES_BY_NAME = load_tables()
PLAIN_QA = TABLES_BY_NAME["plain_qa"]
BRAINSTORMS = TABLES_BY_NAME["brainstorms"]
PASSAGES = TABLES_BY_NAME["passages"]
CAPITALS = TABLES_BY_NAME["capitals"]
ELEMENTS = TABLES_BY_NAME["elements"]
ANIMAL_KINDS = TABLES_BY_NAME["animal_kinds"]
ANIMAL_PROFILES = TABLES_BY_NAME["animal_profiles"]
CITIES = TABLES_BY_NAME["cities"]
PEOPLE = TABLES_BY_NAME["people"]
RECIPES = TABLES_BY_NAME["recipes"]
CLASSIFY_SCHEMES = TABLES_BY_NAME["classification_schemes"]
POLYGONS = [(name, sides) for name, sides, _ in TABLES_BY_NAME["polygons"]]
NUMBER_WORDS = {sides: word for _, sides, word in TABLES_BY_NAME["polygons"]}
HEDGES = TABLES_BY_NAME["hedges"]
RAMBLE_FILLERS = TABLES_BY_NAME["ramble_fillers"]
RAMBLE_OPENERS = TABLES_BY_NAME["ramble_openers"]
TRAIL_ENDINGS = TABLES_BY_NAME["trail_endings"]
WRONG_TEMPLATES = TABLES_BY_NAME["wrong_templates"]
CLARIFY_PREFIXES = TABLES_BY_NAME["clarify_prefixes"]


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
