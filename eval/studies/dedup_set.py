"""Build the duplicate-detection test set, ``eval/gold/dedup.jsonl`` (deterministic, fixed seed).

``python -m eval.studies.dedup_set [--out PATH]`` writes one JSON object per pair of texts::

    {"id": "near-light-000", "kind": "near_duplicate", "intensity": "light",
     "source_a": "spf:F34355", "source_b": "spf:F34355~light", "edits": [...],
     "text_a": "...", "text_b": "..."}

Sources: the 532 service-public.fr pages of ``eval/datasets/spf_qr_test.json`` (``spf:<id>``),
the two articles of ``seeds/`` (``seed:<file stem>``) and three short articles written for this
set on the same stories as the seeds (``topic:<name>``). Kinds:

- ``near_duplicate`` (positive): a page or seed article and the copy a second outlet would
  run of it, made by :func:`wire_copy` at one of three ``intensity`` levels (light, medium,
  heavy: see :data:`INTENSITIES`): new headline, agency byline, typographic changes
  (« » vs "", ’ vs ', non-breaking spaces), sentences reworded or dropped, the end cut, a
  sentence added, paragraphs reordered. ``edits`` lists what was done.
- ``exact_duplicate``: a text and the same text re-wrapped, re-quoted, re-spaced, re-cased or
  re-encoded (:func:`reformat`); their :func:`rag.sources.dedup.text_hash` must be equal.
- ``distinct`` (negative), with ``intensity`` naming the kind of negative: ``similar_spf``,
  the most similar pairs of distinct pages by brute-force Jaccard (word sets, i.e. same
  vocabulary, and 5-word shingles, i.e. shared passages: templated pages); ``ranked_spf``,
  pairs sampled from the next few hundred; ``random_spf``, random pairs;
  ``edited_vs_similar``, a copy of a page against the page most similar to that page;
  ``same_topic``, the two seed articles (OpenAI in Paris and in Munich), edited copies of one
  against the other, and the hand-written articles against the seeds.

Sets no constant itself: it builds the 397 pairs on which ``python -m eval dedup``
(:mod:`eval.dedup`) chose ``NEAR_DUPLICATE_THRESHOLD = 0.5`` (``rag/sources/dedup.py``), on the
plateau of best F1 (0.905). ``python -m eval.studies.dedup_set``, 2026-11-22.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import textwrap
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.config import PROJECT_ROOT
from rag.sources.dedup import jaccard, shingles

SEED = 2025
SPF_DATASET = PROJECT_ROOT / "eval" / "datasets" / "spf_qr_test.json"
SEEDS_DIR = PROJECT_ROOT / "seeds"
OUT = PROJECT_ROOT / "eval" / "gold" / "dedup.jsonl"

NEAR_SOURCES = 60  # service-public.fr pages copied at each intensity
MIN_WORDS, MAX_WORDS = 150, 1500  # pages eligible as near-duplicate sources (and file size)
SEED_COPIES = 3  # copies of each seed article per intensity
EXACT_SOURCES = 40
SIMILAR_PAIRS = 30  # most similar distinct pages, per similarity measure
RANKED_PAIRS = 30  # sampled among the next RANKED_POOL most similar pairs
RANKED_POOL = 300
RANDOM_PAIRS = 60
EDITED_VS_SIMILAR = 20

NBSP, NNBSP = "\u00a0", "\u202f"


@dataclass(frozen=True)
class Intensity:
    """How heavily a second outlet edits a dispatch (fractions of the sentences or words)."""

    reword: float  # sentences reworded
    min_reword: int
    drop: float  # sentences dropped
    min_drop: int
    cut: float  # words cut from the end, in whole paragraphs
    added: int  # sentences added
    reorder: float  # probability of moving a paragraph


INTENSITIES = {
    "light": Intensity(reword=0.05, min_reword=1, drop=0.0, min_drop=0, cut=0.0, added=1, reorder=0.0),
    "medium": Intensity(reword=0.12, min_reword=2, drop=0.06, min_drop=1, cut=0.12, added=1, reorder=0.5),
    "heavy": Intensity(reword=0.25, min_reword=3, drop=0.12, min_drop=2, cut=0.25, added=2, reorder=1.0),
}

HEADLINES = (
    "Ce qu'il faut retenir",
    "Ce qui change pour vous",
    "Les règles à connaître",
    "Démarches : le point complet",
    "Mode d'emploi",
    "Tout comprendre en cinq minutes",
    "Questions-réponses",
    "Ce que prévoit le texte",
    "Le guide pratique",
    "L'essentiel en bref",
)
BYLINES = (
    "(AFP) — ",
    "PARIS (AFP) - ",
    "Par la rédaction avec AFP\n\n",
    "Le Parisien avec AFP\n\n",
    "Par Claire Martin, avec Reuters\n\n",
    "Publié le 27/03/2025 à 10h32, mis à jour à 11h05\n\n",
    "(Reuters) - ",
)
ADDED_SENTENCES = (
    "Contacté par notre rédaction, le ministère n'a pas donné suite.",
    "Cet article a été mis à jour avec de nouvelles précisions.",
    "Lire aussi : notre dossier complet sur le sujet.",
    "Plusieurs associations ont salué cette évolution, tout en réclamant davantage de moyens.",
    "Les détails pratiques doivent être précisés dans les prochaines semaines.",
    "Selon nos informations, d'autres annonces pourraient suivre d'ici à la fin de l'année.",
    "Interrogés, plusieurs usagers disent avoir découvert ces règles au dernier moment.",
    "Le sujet devrait être abordé lors du prochain conseil des ministres.",
)
SYNONYMS = {
    "doit": "est tenu de",
    "doivent": "sont tenus de",
    "peut": "a la possibilité de",
    "peuvent": "ont la possibilité de",
    "également": "aussi",
    "aussi": "également",
    "notamment": "en particulier",
    "pour": "afin de",
    "mais": "cependant",
    "toutefois": "néanmoins",
    "cependant": "toutefois",
    "plusieurs": "divers",
    "important": "majeur",
    "importante": "majeure",
    "permet": "rend possible",
    "selon": "d'après",
    "annoncé": "indiqué",
    "entreprise": "société",
    "ainsi": "de cette façon",
    "très": "particulièrement",
    "déjà": "dès à présent",
    "situation": "cas",
    "document": "justificatif",
    "démarche": "formalité",
    "obtenir": "se procurer",
    "faire": "effectuer",
    "personne": "individu",
    "demande": "requête",
    "souhaite": "désire",
    "souhaitez": "désirez",
    "lorsque": "quand",
    "quand": "lorsque",
    "si": "dans le cas où",
    "avant": "préalablement à",
    "après": "à la suite de",
    "nouvelle": "récente",
    "nouveau": "récent",
    "dans": "au sein de",
    "sur": "concernant",
}
CONNECTORS = ("Par ailleurs, ", "De plus, ", "En outre, ", "À noter : ", "Précision importante : ", "Ainsi, ")

# Three short articles on the seeds' stories, written for this set: same facts and names,
# different wording. They are distinct articles, not copies.
TOPIC_ARTICLES = {
    "openai-paris-brief": (
        "OpenAI ouvre un bureau à Paris\n\n"
        "L'éditeur de ChatGPT a choisi la capitale française pour sa première implantation en "
        "Europe continentale. L'entreprise américaine, dirigée par Sam Altman, compte y recruter "
        "des ingénieurs et des chercheurs, et y nouer des partenariats avec des entreprises et des "
        "laboratoires français.\n\n"
        "Ce choix conforte la place de Paris dans la course à l'intelligence artificielle, où la "
        "ville accueille déjà des acteurs comme Mistral AI ou les laboratoires de recherche de "
        "plusieurs géants du numérique. Le gouvernement y voit le signe de l'attractivité de "
        "l'écosystème français.\n\n"
        "OpenAI dispose déjà de bureaux à Londres et à Dublin, et prévoit d'autres ouvertures, "
        "notamment à Bruxelles, à New York et à Singapour."
    ),
    "openai-munich-brief": (
        "Après Paris, OpenAI s'installe à Munich\n\n"
        "La société californienne a confirmé l'ouverture d'un bureau en Bavière, sa première "
        "adresse en Allemagne. Le ministre régional de l'Économie, Hubert Aiwanger, s'est félicité "
        "de cette arrivée, qui doit renforcer la région comme pôle technologique.\n\n"
        "Sam Altman met en avant le dynamisme des entreprises allemandes, nombreuses à utiliser "
        "les outils d'intelligence artificielle. OpenAI annonce aussi vouloir stocker en Europe "
        "les données de ses clients européens, une demande récurrente des entreprises soucieuses "
        "de souveraineté.\n\n"
        "Le groupe compte déjà des équipes à Paris, à Bruxelles et à Dublin."
    ),
    "mistral-funding": (
        "Mistral AI lève des fonds pour accélérer face aux géants américains\n\n"
        "La jeune pousse parisienne de l'intelligence artificielle a bouclé un nouveau tour de "
        "table, qui la valorise à plusieurs milliards d'euros. Fondée par d'anciens chercheurs de "
        "Google et de Meta, elle développe des modèles de langage dont certains sont publiés en "
        "accès libre.\n\n"
        "L'entreprise entend recruter en France et aux États-Unis, et multiplier les partenariats "
        "avec de grands groupes européens. Elle se présente comme une alternative européenne à "
        "OpenAI, qui vient de renforcer sa présence sur le continent."
    ),
}

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"A-ZÀ-ÖØ-Þ0-9])")


@dataclass(frozen=True)
class Source:
    """A text of the corpus and its name (``spf:<page id>``, ``seed:<stem>``, ``topic:<name>``)."""

    name: str
    text: str


# --- loading -------------------------------------------------------------------------------


def load_spf(path: Path = SPF_DATASET) -> list[Source]:
    """The service-public.fr pages, each as its paragraphs joined by blank lines (as ``eval.squad``)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [
        Source(f"spf:{article['title']}", "\n\n".join(p["context"].strip() for p in article["paragraphs"]))
        for article in data
    ]


def load_seeds(folder: Path = SEEDS_DIR) -> list[Source]:
    """The seed articles, as their files hold them."""
    return [Source(f"seed:{path.stem}", path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.txt"))]


# --- text structure ------------------------------------------------------------------------


def paragraphs(text: str) -> list[str]:
    """The non-blank lines of the text (service-public.fr pages put one block per line)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def sentences(paragraph: str) -> list[str]:
    """The paragraph split after ``. ! ? …`` followed by a capital, a digit or a quote."""
    return [s for s in _SENTENCE_END.split(paragraph) if s]


def word_count(text: str) -> int:
    return len(text.split())


# --- the edits of a second outlet ----------------------------------------------------------


def reword(sentence: str, rng: random.Random) -> str:
    """The sentence said another way: up to three words replaced by synonyms, a clause moved
    to the front, a connector added, or a word dropped (two or three of these)."""
    words = sentence.split()
    operations = ["synonyms", "connector", "drop_word", "move_clause"]
    rng.shuffle(operations)
    for operation in operations[: rng.randint(2, 3)]:
        if operation == "synonyms":
            candidates = [i for i, w in enumerate(words) if w.lower().strip(",.;:") in SYNONYMS]
            for i in rng.sample(candidates, min(3, len(candidates))):
                bare = words[i].lower().strip(",.;:")
                words[i] = words[i].lower().replace(bare, SYNONYMS[bare])
        elif operation == "connector" and words:
            words = [*rng.choice(CONNECTORS).split(), words[0][:1].lower() + words[0][1:], *words[1:]]
        elif operation == "drop_word" and len(words) > 6:
            del words[rng.randrange(1, len(words) - 1)]
        elif operation == "move_clause":
            text = " ".join(words)
            head, comma, tail = text.partition(", ")
            if comma and tail:
                tail = tail.rstrip(".!?")
                words = f"{tail[:1].upper()}{tail[1:]}, {head[:1].lower()}{head[1:]}.".split()
    return " ".join(words)


def typography(text: str, rng: random.Random) -> str:
    """Another outlet's typography: « » or "", ’ or ', (narrow) non-breaking spaces before
    ``: ; ? !``, dashes."""
    if rng.random() < 0.5:
        text = re.sub(r"«\s*(.*?)\s*»", r'"\1"', text)
        text = text.replace("’", "'")
    else:
        text = re.sub(r'"([^"\n]*)"', f"«{NBSP}\\1{NBSP}»", text)
        text = text.replace("'", "’")
    space = rng.choice((NBSP, NNBSP, " "))
    text = re.sub(r"\s*([:;?!])(?=\s|$)", f"{space}\\1", text)
    return text.replace(" - ", " — ") if rng.random() < 0.5 else text


def wire_copy(text: str, intensity: str, rng: random.Random) -> tuple[str, list[str]]:
    """The copy of ``text`` a second outlet would run at that intensity, and its edits."""
    level = INTENSITIES[intensity]
    blocks = [sentences(p) for p in paragraphs(text)]
    edits: list[str] = []

    positions = [
        (b, s) for b, block in enumerate(blocks) for s, sentence in enumerate(block) if word_count(sentence) >= 6
    ]
    n_reword = min(len(positions), max(level.min_reword, round(level.reword * len(positions))))
    n_drop = min(len(positions) - n_reword, max(level.min_drop, round(level.drop * len(positions))))
    chosen = rng.sample(positions, n_reword + n_drop)
    for b, s in chosen[:n_reword]:
        blocks[b][s] = reword(blocks[b][s], rng)
    for b, s in chosen[n_reword:]:
        blocks[b][s] = ""
    edits += [f"reworded {n_reword} sentence(s)"] + ([f"dropped {n_drop} sentence(s)"] if n_drop else [])
    blocks = [[s for s in block if s] for block in blocks]
    blocks = [block for block in blocks if block]

    if level.cut:
        total, budget, cut = sum(word_count(" ".join(b)) for b in blocks), 0, 0
        while len(blocks) > 2 and budget + word_count(" ".join(blocks[-1])) <= level.cut * total:
            budget += word_count(" ".join(blocks.pop()))
            cut += 1
        if cut:
            edits.append(f"cut the last {cut} paragraph(s) ({budget} words)")

    if len(blocks) > 2 and rng.random() < level.reorder:
        moved = blocks.pop(rng.randrange(1, len(blocks)))
        blocks.insert(rng.randrange(0, len(blocks)), moved)
        edits.append("moved a paragraph")

    for _ in range(level.added):
        blocks.insert(rng.randrange(1, len(blocks) + 1), [rng.choice(ADDED_SENTENCES)])
    edits.append(f"added {level.added} sentence(s)")

    byline = rng.choice(BYLINES)
    body = "\n\n".join(" ".join(block) for block in blocks)
    copy = f"{rng.choice(HEADLINES)}\n\n{byline}{body}"
    edits += ["new headline", f"byline {byline.strip()!r}", "typography"]
    return typography(copy, rng), edits


# --- formatting-only changes (exact duplicates) --------------------------------------------


def _rewrap(text: str, rng: random.Random) -> str:
    width = rng.randint(50, 90)
    return "\n\n".join(
        textwrap.fill(p, width=width, break_long_words=False, break_on_hyphens=False) for p in paragraphs(text)
    )


def _quotes(text: str, rng: random.Random) -> str:
    text = text.replace("'", "’") if rng.random() < 0.5 else text.replace("’", "'")
    return re.sub(r'"([^"\n]*)"', "« \\1 »", text)


def _spacing(text: str, rng: random.Random) -> str:
    text = re.sub(r" (?=[:;?!»])", NBSP, text)
    text = re.sub(r"(?<=\S) (?=\S)", lambda m: "  " if rng.random() < 0.05 else " ", text)
    return text.replace("\n", "\r\n") + "\n\n"


def _case(text: str, rng: random.Random) -> str:
    blocks = paragraphs(text)
    upper = rng.randrange(len(blocks))
    return "\n".join(b.upper() if i == upper else b for i, b in enumerate(blocks))


def _encoding(text: str, rng: random.Random) -> str:
    return unicodedata.normalize("NFD", text)


def _punctuation(text: str, rng: random.Random) -> str:
    text = text.replace("...", "…").replace(" - ", " – ")
    return re.sub(r"\.(?=\s|$)", lambda m: "." if rng.random() < 0.7 else " ;", text)


def _soft_hyphens(text: str, rng: random.Random) -> str:
    return re.sub(r"\b(\w{5})(\w{5,})\b", lambda m: m[1] + "\u00ad" + m[2] if rng.random() < 0.1 else m[0], text)


REFORMATS = {
    "rewrap": _rewrap,
    "quotes": _quotes,
    "spacing": _spacing,
    "case": _case,
    "nfd": _encoding,
    "punctuation": _punctuation,
    "soft_hyphens": _soft_hyphens,
}


def reformat(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """The same text after two to four formatting changes (same normalized text), and their names."""
    names = sorted(rng.sample(sorted(REFORMATS), rng.randint(2, 4)), key=list(REFORMATS).index)
    for name in names:
        text = REFORMATS[name](text, rng)
    return text, names


# --- negatives -----------------------------------------------------------------------------


def ranked_pairs(sources: list[Source], size: int) -> list[tuple[float, int, int]]:
    """Every pair of distinct sources by decreasing exact Jaccard of their ``size``-word shingles."""
    sets = [shingles(s.text, size) for s in sources]
    scored = [(jaccard(sets[i], sets[j]), i, j) for i, j in itertools.combinations(range(len(sets)), 2)]
    return sorted(scored, key=lambda t: (-t[0], t[1], t[2]))


# --- the set -------------------------------------------------------------------------------


def pair(pid: str, kind: str, intensity: str | None, a: Source, b: Source, edits: list[str] | None = None) -> dict:
    return {
        "id": pid,
        "kind": kind,
        "intensity": intensity,
        "source_a": a.name,
        "source_b": b.name,
        "edits": edits or [],
        "text_a": a.text,
        "text_b": b.text,
    }


def near_duplicates(spf: list[Source], seeds: list[Source], rng: random.Random) -> Iterator[dict]:
    eligible = [s for s in spf if MIN_WORDS <= word_count(s.text) <= MAX_WORDS]
    originals = rng.sample(eligible, NEAR_SOURCES) + [s for s in seeds for _ in range(SEED_COPIES)]
    for intensity in INTENSITIES:
        for number, source in enumerate(originals):
            text, edits = wire_copy(source.text, intensity, rng)
            copy = Source(f"{source.name}~{intensity}", text)
            yield pair(f"near-{intensity}-{number:03d}", "near_duplicate", intensity, source, copy, edits)


def exact_duplicates(spf: list[Source], seeds: list[Source], rng: random.Random) -> Iterator[dict]:
    eligible = [s for s in spf if MIN_WORDS <= word_count(s.text) <= MAX_WORDS]
    for number, source in enumerate(rng.sample(eligible, EXACT_SOURCES) + seeds + seeds):
        text, names = reformat(source.text, rng)
        yield pair(
            f"exact-{number:03d}", "exact_duplicate", None, source, Source(f"{source.name}~reformat", text), names
        )


def distinct_pairs(spf: list[Source], seeds: list[Source], rng: random.Random) -> Iterator[dict]:
    by_words, by_passages = ranked_pairs(spf, 1), ranked_pairs(spf, 5)
    taken: set[tuple[int, int]] = set()
    similar = [(i, j) for _, i, j in by_words[:SIMILAR_PAIRS]] + [(i, j) for _, i, j in by_passages[:SIMILAR_PAIRS]]
    for i, j in similar:
        taken.add((i, j))
    ranked_pool = [(i, j) for _, i, j in by_passages[SIMILAR_PAIRS:RANKED_POOL] if (i, j) not in taken]
    ranked = rng.sample(ranked_pool, RANKED_PAIRS)
    taken.update(ranked)
    short = [k for k, s in enumerate(spf) if word_count(s.text) <= MAX_WORDS]  # keeps the file small
    randoms: list[tuple[int, int]] = []
    while len(randoms) < RANDOM_PAIRS:
        i, j = sorted(rng.sample(short, 2))
        if (i, j) not in taken:
            taken.add((i, j))
            randoms.append((i, j))
    number = itertools.count()
    for group, pairs in (("similar_spf", sorted(set(similar))), ("ranked_spf", ranked), ("random_spf", randoms)):
        for i, j in pairs:
            yield pair(f"distinct-{next(number):03d}", "distinct", group, spf[i], spf[j])

    for _, i, j in by_passages[:EDITED_VS_SIMILAR]:
        intensity = rng.choice(list(INTENSITIES))
        text, edits = wire_copy(spf[i].text, intensity, rng)
        copy = Source(f"{spf[i].name}~{intensity}", text)
        yield pair(f"distinct-{next(number):03d}", "distinct", "edited_vs_similar", copy, spf[j], edits)

    topics = [Source(f"topic:{name}", text) for name, text in TOPIC_ARTICLES.items()]
    for a, b in itertools.combinations(seeds, 2):
        yield pair(f"distinct-{next(number):03d}", "distinct", "same_topic", a, b)
        for intensity in INTENSITIES:
            text, edits = wire_copy(a.text, intensity, rng)
            yield pair(
                f"distinct-{next(number):03d}",
                "distinct",
                "same_topic",
                Source(f"{a.name}~{intensity}", text),
                b,
                edits,
            )
    for seed, topic in itertools.product(seeds, topics):
        yield pair(f"distinct-{next(number):03d}", "distinct", "same_topic", seed, topic)


def build(spf: list[Source], seeds: list[Source], seed: int = SEED) -> list[dict]:
    """Every pair of the set, in a fixed order (the same on every run)."""
    rng = random.Random(seed)
    return [*near_duplicates(spf, seeds, rng), *exact_duplicates(spf, seeds, rng), *distinct_pairs(spf, seeds, rng)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.studies.dedup_set", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    pairs = build(load_spf(), load_seeds())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="\n") as out:
        for item in pairs:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for item in pairs:
        key = f"{item['kind']}/{item['intensity']}" if item["intensity"] else item["kind"]
        kinds[key] = kinds.get(key, 0) + 1
    print(f"{len(pairs)} pairs -> {args.out}")
    for key, count in kinds.items():
        print(f"  {key:<32} {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
