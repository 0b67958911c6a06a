import hashlib

import pytest

from rag.errors import DocumentError
from rag.sources.dates import parse_french_date
from rag.sources.documents import parse_article, slugify
from rag.sources.files import load_documents, read_document
from tests.conftest import MUNICH_SEED, PARIS_SEED, SEEDS


def test_munich_seed_header():
    doc = read_document(MUNICH_SEED)
    assert doc.title == (
        "OpenAI renforce sa présence Européenne avec l’ouverture d’un datacenter et un bureau à Munich"
    )
    assert doc.date == "2025-03-27"
    assert doc.rubric == "News"
    assert doc.body.startswith("OpenAI, le géant californien de l’intelligence artificielle")
    assert doc.body.endswith("il…")
    assert doc.source == str(MUNICH_SEED)
    assert doc.sha256 == hashlib.sha256(MUNICH_SEED.read_bytes()).hexdigest()
    assert doc.doc_id == "2025-03-27-openai-munich"


def test_paris_seed_has_month_precision_and_a_lede_title():
    doc = read_document(PARIS_SEED)
    assert doc.date == "2024-10"  # a month is a month
    assert doc.body.startswith("Avec cette nouvelle implantation, la start-up californienne")
    # No headline line: the title is the lede's first sentence.
    assert doc.title.startswith("Avec cette nouvelle implantation")
    assert len(doc.title) <= 121
    assert doc.rubric is None


def test_body_keeps_all_text_after_the_header():
    raw = MUNICH_SEED.read_text(encoding="utf-8")
    doc = read_document(MUNICH_SEED)
    assert doc.body in raw
    assert "Hubert Aiwanger" in doc.body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jeudi 27 mars 2025", "2025-03-27"),
        ("27 mars 2025", "2025-03-27"),
        ("1er janvier 2024", "2024-01-01"),
        ("mars 2025", "2025-03"),
        ("2024-10", "2024-10"),
        ("2024", "2024"),
        ("2023-02-14", "2023-02-14"),
        ("News", None),
        ("OpenAI renforce sa présence", None),
        ("", None),
    ],
)
def test_french_dates_keep_their_precision(text, expected):
    assert parse_french_date(text) == expected


def test_article_without_date_or_headline():
    doc = parse_article("Un texte court. Et une suite.\n\nDeuxième paragraphe.", source="x.txt", doc_id="x", sha256="0")
    assert doc.date is None
    assert doc.title == "Un texte court"
    assert doc.body.startswith("Un texte court.")


def test_headline_then_body():
    doc = parse_article("Le titre\n\nLe corps de l'article.", source="x.txt", doc_id="x", sha256="0")
    assert (doc.title, doc.body) == ("Le titre", "Le corps de l'article.")


def test_slugify_folds_accents():
    assert slugify("Élection à Besançon (2024)") == "election-a-besancon-2024"


def test_unreadable_files_are_reported_by_name_and_skipped(tmp_path):
    good = tmp_path / "bon.txt"
    good.write_text("Titre\n\nUn corps d'article.", encoding="utf-8")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Titre\n\nÉté à Besançon, déjà.".encode("latin-1"))  # detected and decoded
    empty = tmp_path / "vide.txt"
    empty.write_text("  \n", encoding="utf-8")
    binary = tmp_path / "binaire.txt"
    binary.write_bytes(b"\x00\x01\x02abc")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")  # not a format that is read: reported

    documents, skipped = load_documents([tmp_path])

    assert [d.doc_id for d in documents] == ["bon", "latin1"]
    assert documents[1].body == "Été à Besançon, déjà."
    assert len(skipped) == 3
    assert any("image.png" in s and "format non pris en charge" in s for s in skipped)
    assert any("vide.txt" in s for s in skipped)
    assert any("binaire.txt" in s for s in skipped)


def test_missing_file_is_reported(tmp_path):
    documents, skipped = load_documents([tmp_path / "absent.txt"])
    assert documents == [] and "absent.txt" in skipped[0]


def test_read_document_raises_a_named_error(tmp_path):
    path = tmp_path / "illisible.txt"
    path.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(DocumentError, match="illisible.txt"):
        read_document(path)


def test_seed_folder_loads_both_seeds():
    documents, skipped = load_documents([SEEDS])
    assert skipped == []
    assert sorted(d.doc_id for d in documents) == ["2024-10-openai-paris", "2025-03-27-openai-munich"]
