"""Duplicate detection (rag/sources/dedup.py): normalization, hashes, MinHash signatures, matching."""

import json
import textwrap
import unicodedata

import numpy as np
import pytest
from datasketch import MinHash

from rag.config import PROJECT_ROOT
from rag.sources import dedup
from tests.conftest import MUNICH_SEED, PARIS_SEED

PARIS = PARIS_SEED.read_text(encoding="utf-8")
MUNICH = MUNICH_SEED.read_text(encoding="utf-8")
GOLD = PROJECT_ROOT / "eval" / "gold" / "dedup.jsonl"

SENTENCE = "« L’État a annoncé 10 000 créations d’emplois », selon le ministère — à Paris."


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def wire_copy(text: str) -> str:
    """A second outlet's copy: new headline, byline, one sentence reworded, the last paragraph cut."""
    body = "\n\n".join(paragraphs(text)[:-1])
    reworded = body.replace("témoigne de l'intérêt croissant pour", "illustre l'attrait grandissant de")
    assert reworded != body
    return "OpenAI s'installe à Paris\n\nPar la rédaction avec AFP\n\n" + reworded


# --- normalization and exact duplicates ----------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        unicodedata.normalize("NFD", SENTENCE),  # decomposed accents
        SENTENCE.upper(),
        SENTENCE.replace("« ", '"').replace(" »", '"').replace("’", "'"),  # straight quotes
        SENTENCE.replace("« ", "“").replace(" »", "”"),  # English curly quotes
        SENTENCE.replace(" »", "\u00a0»").replace("« ", "«\u202f").replace("10 000", "10\u202f000"),  # (narrow) nbsp
        SENTENCE.replace(" — ", " - ").replace(",", ""),  # other dash, a comma less
        textwrap.fill(SENTENCE, width=20).replace("\n", "\r\n") + "\n\n",  # re-wrapped, CRLF
        "  " + SENTENCE.replace(" ", "   \t") + "  ",  # whitespace
        SENTENCE.replace("créations", "cré\u00adations").replace("annoncé", "annon\u200bcé"),  # invisible chars
    ],
)
def test_normalized_text_ignores_formatting(variant: str):
    assert dedup.normalized_text(variant) == dedup.normalized_text(SENTENCE)
    assert dedup.text_hash(variant) == dedup.text_hash(SENTENCE)


def test_normalized_text_keeps_words_only():
    assert dedup.normalized_text(SENTENCE) == "l etat a annonce 10 000 creations d emplois selon le ministere a paris"
    assert dedup.normalized_text("Œuvre ﬁnale, Straße") == "œuvre finale strasse"  # ligature, casefold
    assert dedup.normalized_text(" … — !? ") == ""


def test_text_hash_of_a_reformatted_seed_is_equal_and_a_changed_word_is_not():
    reformatted = "\n\n".join(textwrap.fill(p, width=60) for p in paragraphs(PARIS))
    reformatted = reformatted.replace("'", "’").replace('"', "«", 1).upper()
    assert dedup.text_hash(reformatted) == dedup.text_hash(PARIS)
    assert dedup.text_hash(PARIS.replace("Paris", "Lyon", 1)) != dedup.text_hash(PARIS)
    assert len(dedup.text_hash(PARIS)) == 64


# --- shingles and signatures ---------------------------------------------------------------


def test_shingles_are_word_runs_of_the_normalized_text():
    assert dedup.shingles("Le chat dort, sur le tapis.", size=3) == {
        "le chat dort",
        "chat dort sur",
        "dort sur le",
        "sur le tapis",
    }
    with pytest.raises(ValueError):
        dedup.shingles("texte", size=0)


def test_signature_shape_dtype_and_stability():
    sig = dedup.signature(PARIS)
    assert sig.dtype == np.uint64 and sig.shape == (dedup.NUM_PERM,)
    assert np.array_equal(sig, dedup.signature(PARIS))
    assert np.array_equal(dedup.signature(PARIS), dedup.signature(PARIS.upper().replace("'", "’")))
    # Fixed seed and hash function: the same values in every process and on every machine.
    # If this changes, every signature stored in an index must be recomputed.
    assert dedup.signature("Le chat dort sur le tapis du salon.")[:3].tolist() == [
        564378765322983786,
        847082202980688442,
        1185249425294353701,
    ]


def test_signature_bytes_round_trip():
    sig = dedup.signature(MUNICH)
    data = dedup.signature_to_bytes(sig)
    assert isinstance(data, bytes) and len(data) == 8 * dedup.NUM_PERM
    back = dedup.signature_from_bytes(data)
    assert back.dtype == np.uint64 and np.array_equal(back, sig)
    back[0] = 0  # a writable copy, not a view of the bytes
    for bad in (b"", b"1234567"):
        with pytest.raises(ValueError):
            dedup.signature_from_bytes(bad)


def test_similarities_agree_with_datasketch_jaccard():
    texts = [PARIS, MUNICH, wire_copy(PARIS), "Un tout autre texte, sans rapport avec les autres articles."]
    matrix = np.stack([dedup.signature(t) for t in texts])
    scores = dedup.similarities(matrix[2], matrix)
    assert scores.shape == (len(texts),) and scores.dtype == np.float64
    mine = MinHash(num_perm=dedup.NUM_PERM, seed=dedup.SEED, scheme=dedup.SCHEME, hashvalues=matrix[2])
    for row, score in zip(matrix, scores, strict=True):
        theirs = MinHash(num_perm=dedup.NUM_PERM, seed=dedup.SEED, scheme=dedup.SCHEME, hashvalues=row)
        assert score == pytest.approx(mine.jaccard(theirs))
    assert scores[2] == 1.0


def test_similarities_estimate_the_exact_jaccard():
    copy = wire_copy(PARIS)
    exact = dedup.jaccard(dedup.shingles(PARIS), dedup.shingles(copy))
    estimate = dedup.similarities(dedup.signature(copy), dedup.signature(PARIS)[None, :])[0]
    assert abs(estimate - exact) < 0.15  # four standard errors at 128 permutations


def test_similarities_reject_a_matrix_of_the_wrong_width():
    with pytest.raises(ValueError):
        dedup.similarities(dedup.signature(PARIS), np.zeros((3, dedup.NUM_PERM + 1), dtype=np.uint64))
    assert dedup.similarities(dedup.signature(PARIS), np.zeros((0, dedup.NUM_PERM), dtype=np.uint64)).shape == (0,)


# --- near duplicates -----------------------------------------------------------------------


def index(*texts: str) -> np.ndarray:
    return np.stack([dedup.signature(t) for t in texts])


def test_a_wire_copy_is_found_above_the_threshold():
    match = dedup.find_near_duplicate(dedup.signature(wire_copy(PARIS)), ["munich", "paris"], index(MUNICH, PARIS))
    assert match is not None and match.doc_id == "paris"
    assert dedup.NEAR_DUPLICATE_THRESHOLD <= match.similarity < 1.0


def test_the_two_seeds_are_not_near_duplicates():
    assert dedup.find_near_duplicate(dedup.signature(MUNICH), ["paris"], index(PARIS)) is None
    assert dedup.similarities(dedup.signature(MUNICH), index(PARIS))[0] < 0.1


def test_find_near_duplicate_returns_the_most_similar_and_respects_the_threshold():
    sig = dedup.signature(wire_copy(PARIS))
    match = dedup.find_near_duplicate(sig, ["munich", "paris", "copy"], index(MUNICH, PARIS, wire_copy(PARIS)))
    assert match == dedup.Match("copy", 1.0)
    assert dedup.find_near_duplicate(sig, ["paris"], index(PARIS), threshold=0.99) is None
    assert dedup.find_near_duplicate(sig, [], np.empty((0, dedup.NUM_PERM), dtype=np.uint64)) is None
    with pytest.raises(ValueError):
        dedup.find_near_duplicate(sig, ["a", "b"], index(PARIS))


def test_short_texts_do_not_match_everything():
    short = ["Oui.", "Non merci.", "Mode d'emploi", "Ce qu'il faut savoir", "Bonjour"]
    matrix = index(*short, PARIS, MUNICH)
    for position, text in enumerate(short):
        scores = dedup.similarities(dedup.signature(text), matrix)
        assert scores[position] == 1.0  # itself (an exact duplicate anyway)
        assert np.delete(scores, position).max() < 0.05
    assert dedup.shingles("Mode d'emploi") == {"mode d emploi"}
    assert dedup.shingles("Oui.") == {"oui"}


def test_a_text_without_words_matches_nothing():
    empty = dedup.signature(" … !? ")
    assert dedup.is_empty(empty) and not dedup.is_empty(dedup.signature("Oui"))
    matrix = index(" — ", PARIS)
    assert dedup.similarities(empty, matrix).tolist() == [0.0, 0.0]
    assert dedup.find_near_duplicate(empty, ["blank", "paris"], matrix, threshold=0.0) is None


# --- the committed test set ----------------------------------------------------------------


def test_gold_set_labels_and_exact_pairs():
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines()]
    kinds = {row["kind"] for row in rows}
    assert kinds == {"near_duplicate", "exact_duplicate", "distinct"}
    assert len(rows) >= 300 and len({row["id"] for row in rows}) == len(rows)
    intensities = {row["intensity"] for row in rows if row["kind"] == "near_duplicate"}
    assert intensities == {"light", "medium", "heavy"}
    for row in rows:
        same = dedup.text_hash(row["text_a"]) == dedup.text_hash(row["text_b"])
        assert same == (row["kind"] == "exact_duplicate"), row["id"]
