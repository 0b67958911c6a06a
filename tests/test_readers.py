"""The readers of each source format, encoding detection, and why files are skipped.

Every fixture is made here (PDFs with a hand-written content stream, DOCX with
python-docx) except the news page in ``tests/fixtures``; no model is loaded.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from rag.errors import DocumentError
from rag.sources.documents import date_of_line, split_article
from rag.sources.files import find_sources, load_documents, read_document
from tests.conftest import MUNICH_SEED, PARIS_SEED, SEEDS

FIXTURES = Path(__file__).parent / "fixtures"
NEWS_PAGE = FIXTURES / "article-presse.html"
FRENCH = "Le cœur de l’été : 5 € le café à l’hôtel, déjà « complet » à Besançon."


# --- fixture builders -------------------------------------------------------------


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(
    path: Path,
    pages: list[list[str]],
    *,
    metadata: dict[str, str] | None = None,
    password: str | None = None,
) -> Path:
    """A PDF with one text line per item of each page, in Helvetica (WinAnsi: French accents, €)."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    for lines in pages:
        page = writer.add_blank_page(595, 842)
        operators = " ".join(f"{_pdf_string(line)} Tj T*" for line in lines)
        content = DecodedStreamObject()
        content.set_data(f"BT /F1 11 Tf 14 TL 72 770 Td {operators} ET".encode("cp1252"))
        page.replace_contents(content)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
    if metadata:
        writer.add_metadata(metadata)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="propriétaire", algorithm="AES-128")
    with path.open("wb") as file:
        writer.write(file)
    return path


def make_docx(path: Path, *, title_style: bool = True, author: str = "Claire Martin", created: datetime | None = None):
    """A Word file: a styled title, a date line, paragraphs, a section heading and a table."""
    word = docx.Document()
    word.add_paragraph("Élections européennes : la participation en hausse", style="Title" if title_style else None)
    word.add_paragraph("dimanche 9 juin 2024")
    word.add_paragraph("La participation a atteint 51,5 %, un niveau inédit depuis 1994.")
    word.add_heading("Les résultats par région", level=2)
    word.add_paragraph("En Bretagne, l’abstention recule de cinq points.")
    table = word.add_table(rows=2, cols=3)
    values = [("Région", "Participation", "Évolution"), ("Bretagne", "54 %", "+5")]
    for row, row_values in zip(table.rows, values, strict=True):
        for cell, value in zip(row.cells, row_values, strict=True):
            cell.text = value
    word.core_properties.author = author
    word.core_properties.title = "Note interne"
    word.core_properties.created = created or datetime(2024, 6, 10, 9, 0)
    word.save(str(path))
    return path


# --- text and seeds -----------------------------------------------------------------


def test_seeds_parse_as_before():
    munich, paris = read_document(MUNICH_SEED), read_document(PARIS_SEED)
    assert munich.title == (
        "OpenAI renforce sa présence Européenne avec l’ouverture d’un datacenter et un bureau à Munich"
    )
    assert (munich.date, munich.rubric, munich.kind, munich.pages) == ("2025-03-27", "News", "text", ())
    assert paris.title == (
        "Avec cette nouvelle implantation, la start-up californienne souhaite accélérer "
        "le développement de partenariats en…"
    )
    assert (paris.date, paris.rubric, paris.kind) == ("2024-10", None, "text")


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "iso8859_15", "mac_roman", "utf-16", "utf-32"]
)
def test_text_in_any_common_encoding_is_decoded(tmp_path, encoding):
    text = f"mardi 11 juin 2024\nÉconomie\n\nL’été à Besançon\n\n{FRENCH}"
    if encoding in ("latin-1", "iso8859_15"):  # no ’ in either, no œ or € in Latin-1
        text = text.replace("’", "'")
    if encoding == "latin-1":
        text = text.replace("œ", "oe").replace("€", "euros")
    path = tmp_path / "article.txt"
    path.write_bytes(text.encode(encoding))
    doc = read_document(path)
    expected_title = "L'été à Besançon" if encoding in ("latin-1", "iso8859_15") else "L’été à Besançon"
    assert (doc.title, doc.date, doc.rubric) == (expected_title, "2024-06-11", "Économie")
    assert doc.body == text.split("\n\n")[-1]


def test_utf16_without_bom_is_not_taken_for_binary(tmp_path):
    path = tmp_path / "sans-bom.txt"
    path.write_bytes(f"Titre\n\n{FRENCH}".encode("utf-16-le"))
    assert read_document(path).body == FRENCH


def test_bytes_no_encoding_reads_are_skipped_by_name(tmp_path):
    path = tmp_path / "charabia.txt"
    path.write_bytes(bytes(range(128, 256)) * 4)
    with pytest.raises(DocumentError, match=r"charabia\.txt : encodage non reconnu"):
        read_document(path)


def test_a_text_of_only_a_bom_and_spaces_is_empty(tmp_path):
    path = tmp_path / "vide.txt"
    path.write_bytes(" \n".encode("utf-16"))
    with pytest.raises(DocumentError, match=r"vide\.txt : fichier vide"):
        read_document(path)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Publié le 11 juin 2024 à 8 h 30", "2024-06-11"),
        ("Mis à jour le 12/06/2024", "2024-06-12"),
        ("Date : 2024-10-02", "2024-10-02"),
        ("Le prix baisse en 2024.", None),
    ],
)
def test_labelled_date_lines(line, expected):
    assert date_of_line(line) == expected


def test_a_date_line_may_follow_the_headline():
    layout = split_article("Le titre\n27 mars 2025\n\nLe corps.\n")
    assert (layout.headline, layout.date, layout.body) == ("Le titre", "2025-03-27", "Le corps.")


def test_document_records_the_raw_bytes_digest_and_resolved_path(tmp_path):
    path = tmp_path / "article.txt"
    path.write_bytes(f"Titre\n\n{FRENCH}".encode("cp1252"))
    doc = read_document(tmp_path / "." / "article.txt")
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc.source == str(path.resolve())


# --- Markdown -------------------------------------------------------------------------


def test_markdown_headline_rubric_and_date(tmp_path):
    path = tmp_path / "Note.MD"
    path.write_text(
        "jeudi 27 mars 2025\nTech\n\n# OpenAI à **Munich**\n\n## Un bureau en Bavière\n\n"
        "OpenAI ouvre un *bureau* à Munich, [annonce](https://example.org) faite jeudi.\n",
        encoding="utf-8",
    )
    doc = read_document(path)
    assert (doc.title, doc.date, doc.rubric, doc.kind) == ("OpenAI à Munich", "2025-03-27", "Tech", "markdown")
    # The subheading right after the headline stays in the body; the markup goes.
    assert doc.body == "Un bureau en Bavière\n\nOpenAI ouvre un bureau à Munich, annonce faite jeudi."


def test_markdown_front_matter(tmp_path):
    path = tmp_path / "billet.markdown"
    path.write_text(
        '---\ntitle: "L’IA en Europe"\ndate: 2024-10-02\nauthor: Claire Martin\n---\n\nUn texte sans titre. Suite.\n',
        encoding="utf-8",
    )
    doc = read_document(path)
    assert (doc.title, doc.date, doc.author) == ("L’IA en Europe", "2024-10-02", "Claire Martin")
    assert doc.body == "Un texte sans titre. Suite."


def test_markdown_setext_headline_quotes_and_rules(tmp_path):
    path = tmp_path / "billet.md"
    path.write_text(
        "Mon titre\n=========\n\nSous-partie\n-----------\n\n> Une citation *forte*.\n\n---\n\nFin du texte.\n",
        encoding="utf-8",
    )
    doc = read_document(path)
    assert doc.title == "Mon titre"
    assert doc.body == "Sous-partie\n\nUne citation forte.\n\nFin du texte."


# --- HTML -----------------------------------------------------------------------------


def test_news_page_main_text_and_metadata():
    doc = read_document(NEWS_PAGE)
    assert doc.kind == "html"
    assert doc.title == "Mistral AI lève 600 millions d'euros"
    assert (doc.date, doc.author, doc.site, doc.rubric) == (
        "2024-06-11",
        "Claire Martin",
        "L'Écho du Numérique",
        "Économie",
    )
    assert doc.body.startswith("La jeune pousse parisienne, fondée il y a à peine un an")
    assert "\n\nUne concurrence féroce\n\n" in doc.body
    assert doc.body.endswith("pour les acteurs du secteur.")
    for boilerplate in (
        "cookies",
        "S'abonner",
        "À lire aussi",
        "OpenAI ouvre un bureau",
        "Les plus lus",
        "newsletter",
        "Mentions légales",
        "Tous droits réservés",
        "Bravo",
        "Partager",
    ):
        assert boilerplate not in doc.body, boilerplate


def test_news_page_in_a_declared_legacy_charset(tmp_path):
    html = NEWS_PAGE.read_text(encoding="utf-8").replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">')
    path = tmp_path / "page.htm"
    path.write_bytes(html.encode("cp1252"))  # pages declaring Latin-1 are read as browsers do: windows-1252
    doc = read_document(path)
    assert doc.site == "L'Écho du Numérique"
    assert "l’une des plus grosses levées de fonds de l’histoire" in doc.body


def test_page_without_article_text_is_skipped(tmp_path):
    path = tmp_path / "vide.html"
    path.write_text("<html><head><title>Accueil</title></head><body><nav></nav></body></html>", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"vide\.html : aucun texte d'article"):
        read_document(path)


# --- PDF ------------------------------------------------------------------------------

THREE_PAGES = [
    ["Rapport sur l’IA en Europe", "Première page : l’été à Besançon, 5 €, une œuvre."],
    ["Deuxième page : les investissements."],
    ["Troisième page : la conclusion du rapport."],
]


def test_pdf_pages_map_offsets_to_page_numbers(tmp_path):
    path = make_pdf(
        tmp_path / "rapport.PDF",
        THREE_PAGES,
        metadata={
            "/Title": "Microsoft Word - rapport.docx",
            "/Author": "Claire Martin",
            "/CreationDate": "D:20240611083000+02'00'",
        },
    )
    doc = read_document(path)
    assert (doc.kind, len(doc.pages), doc.pages[0]) == ("pdf", 3, 0)
    assert "l’été à Besançon, 5 €, une œuvre" in doc.body
    for number, lines in enumerate(THREE_PAGES, start=1):
        offset = doc.body.index(lines[-1])
        assert doc.page_at(offset) == number
        assert doc.page_at(offset + len(lines[-1]) - 1) == number
    assert doc.title == "Rapport sur l’IA en Europe"  # the /Title is a tool's placeholder
    assert (doc.author, doc.date) == ("Claire Martin", "2024-06-11")


def test_pdf_title_from_metadata_and_date_from_the_text(tmp_path):
    pages = [["mardi 2 juillet 2024", "Le texte du communiqué, sur une ligne."]]
    path = make_pdf(
        tmp_path / "communique.pdf",
        pages,
        metadata={"/Title": "Communiqué de presse", "/CreationDate": "D:20200101000000Z"},
    )
    doc = read_document(path)
    assert (doc.title, doc.date, doc.pages) == ("Communiqué de presse", "2024-07-02", (0,))


def test_pdf_with_an_empty_user_password_opens(tmp_path):
    doc = read_document(make_pdf(tmp_path / "protege.pdf", THREE_PAGES, password=""))
    assert doc.page_at(len(doc.body) - 1) == 3


@pytest.mark.parametrize(
    ("pages", "password", "raw", "reason"),
    [
        (THREE_PAGES, "secret", None, "PDF protégé par un mot de passe"),
        ([[], []], None, None, "aucun texte dans le PDF"),
        (None, None, b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "PDF illisible ou endommagé"),
    ],
    ids=["encrypted", "scan-without-text", "corrupt"],
)
def test_unusable_pdfs_are_skipped_with_the_reason(tmp_path, pages, password, raw, reason):
    path = tmp_path / "mauvais.pdf"
    if raw is None:
        make_pdf(path, pages, password=password)
    else:
        path.write_bytes(raw)
    with pytest.raises(DocumentError, match=f"mauvais.pdf : {reason}"):
        read_document(path)


# --- DOCX -----------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_properties(tmp_path):
    doc = read_document(make_docx(tmp_path / "note.docx"))
    assert doc.kind == "docx"
    assert (doc.title, doc.date, doc.author) == (
        "Élections européennes : la participation en hausse",
        "2024-06-09",
        "Claire Martin",
    )
    assert doc.body == (
        "La participation a atteint 51,5 %, un niveau inédit depuis 1994.\n\n"
        "Les résultats par région\n\n"
        "En Bretagne, l’abstention recule de cinq points.\n\n"
        "Région | Participation | Évolution\nBretagne | 54 % | +5"
    )


def test_docx_without_title_style_or_date_line_uses_the_properties(tmp_path):
    word = docx.Document()
    word.add_paragraph("La participation a atteint 51,5 %, un niveau inédit.")
    word.core_properties.title = "Note sur la participation"
    word.core_properties.created = datetime(2024, 6, 10, 9, 0)
    path = tmp_path / "note.docx"
    word.save(str(path))
    doc = read_document(path)
    assert (doc.title, doc.date, doc.author) == ("Note sur la participation", "2024-06-10", None)


def test_corrupt_docx_is_skipped(tmp_path):
    path = tmp_path / "abime.docx"
    path.write_bytes(b"PK\x03\x04 ceci n'est pas une archive")
    with pytest.raises(DocumentError, match=r"abime\.docx : document Word illisible"):
        read_document(path)


# --- finding and skipping files ------------------------------------------------------


def test_folders_are_walked_and_every_skip_has_a_reason(tmp_path, monkeypatch):
    (tmp_path / "presse" / "2024").mkdir(parents=True)
    (tmp_path / "presse" / "2024" / "page.HTML").write_bytes(NEWS_PAGE.read_bytes())
    make_pdf(tmp_path / "presse" / "rapport.pdf", THREE_PAGES)
    make_docx(tmp_path / "note.docx")
    (tmp_path / "article.txt").write_text(f"Titre\n\n{FRENCH}", encoding="utf-8")
    (tmp_path / "presse" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    (tmp_path / "vide.md").write_text(" \n", encoding="utf-8")
    (tmp_path / "binaire.txt").write_bytes(b"\x00\x01\x02abc\x00")
    (tmp_path / "faux.pdf").write_text("pas un PDF", encoding="utf-8")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "copie.txt").write_text("Titre\n\nCaché.", encoding="utf-8")
    (tmp_path / ".brouillon.txt").write_text("Titre\n\nCaché.", encoding="utf-8")
    (tmp_path / "~$note.docx").write_bytes(b"\x00lock")
    (tmp_path / "lien.txt").symlink_to(tmp_path / "absent.txt")
    os.mkfifo(tmp_path / "tube.txt")
    (tmp_path / "protege.txt").write_text("Titre\n\nSecret.", encoding="utf-8")
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:  # tests run as root: simulate a file we may not read
        if path.name == "protege.txt":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)

    documents, skipped = load_documents([tmp_path])

    assert sorted((d.doc_id, d.kind) for d in documents) == [
        ("article", "text"),
        ("note", "docx"),
        ("page", "html"),
        ("rapport", "pdf"),
    ]
    expected = {
        "presse/photo.jpg : format non pris en charge (.jpg), ignoré.",
        "vide.md : fichier vide, ignoré.",
        "binaire.txt : fichier binaire, ignoré.",
        "lien.txt : lien symbolique cassé, ignoré.",
        "tube.txt : n'est pas un fichier ordinaire, ignoré.",
        "protege.txt : lecture impossible (Permission denied), fichier ignoré.",
    }
    assert expected <= set(skipped) and len(skipped) == len(expected) + 1
    assert any(s.startswith("faux.pdf : PDF illisible ou endommagé (") for s in skipped)


def test_a_file_named_explicitly_with_an_unknown_suffix_is_skipped(tmp_path):
    path = tmp_path / "tableau.xlsx"
    path.write_bytes(b"PK\x03\x04")
    assert load_documents([path]) == ([], ["tableau.xlsx : format non pris en charge (.xlsx), ignoré."])
    old_word = tmp_path / "rapport.doc"
    old_word.write_bytes(b"\xd0\xcf\x11\xe0")
    assert load_documents([old_word])[1] == [
        "rapport.doc : format non pris en charge (.doc ; enregistrez-le en .docx ou en PDF), ignoré."
    ]
    no_suffix = tmp_path / "LISEZMOI"
    no_suffix.write_text("Titre\n\nTexte.", encoding="utf-8")
    assert load_documents([no_suffix])[1] == ["LISEZMOI : format non pris en charge (sans extension), ignoré."]


def test_ids_stay_slugs_of_the_stem_with_suffixes_for_collisions(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Note.txt").write_text("Titre\n\nUn.", encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "note.md").write_text("# Titre\n\nDeux.", encoding="utf-8")
    documents, skipped = load_documents([tmp_path, tmp_path / "a" / "Note.txt"])  # named twice, read once
    assert skipped == []
    assert [d.doc_id for d in documents] == ["note", "note-2"]


def test_find_sources_keeps_its_old_use():
    assert [p.name for p in find_sources([SEEDS])] == sorted(p.name for p in SEEDS.glob("*.txt"))
