"""A corpus of hostile files, made at test time (none is committed): what a folder, an upload
or a fuzzer can throw at the readers. :func:`make_hostile_folder` writes them all."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

ARTICLE = "jeudi 27 mars 2025\n\nOpenAI ouvre un bureau à Munich\n\nOpenAI ouvrira un bureau à Munich cette année.\n"

_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def zip_bomb_docx(path: Path, *, megabytes: int = 1024) -> Path:
    """A DOCX of a few MB whose document.xml inflates to ``megabytes`` MB."""
    paragraph = b"<w:p><w:r><w:t>bombe</w:t></w:r></w:p>" * 25_000  # about 1 MB
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as docx:
        docx.writestr("[Content_Types].xml", _DOCX_TYPES)
        docx.writestr("_rels/.rels", _DOCX_RELS)
        with docx.open("word/document.xml", "w", force_zip64=True) as document:
            document.write(f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode())
            for _ in range(megabytes):
                document.write(paragraph)
            document.write(b"</w:body></w:document>")
    return path


def nested_html(path: Path, *, depth: int = 200_000) -> Path:
    path.write_text("<html><body>" + "<div>" * depth + "profond" + "</div>" * depth + "</body></html>")
    return path


def slow_html(path: Path, *, paragraphs: int = 30_000) -> Path:
    """A page of the same paragraph over and over: trafilatura takes seconds per MB on it
    (11 MB: 40 s here)."""
    paragraph = "<p>Le conseil municipal a voté le budget de la ville ce jeudi soir.</p>\n"
    path.write_text(f"<html><body><article>{paragraph * paragraphs}</article></body></html>", encoding="utf-8")
    return path


def _pdf(objects: list[bytes], trailer: bytes, *, xref_at: int | None = None) -> bytes:
    """A PDF made of ``objects`` (numbered from 1), with a correct xref table unless told."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % (xref if xref_at is None else xref_at)
    return bytes(out)


_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
_PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"


def looping_xref_pdf(path: Path) -> Path:
    """A PDF whose trailer's /Prev points back at its own xref table, and whose page tree loops."""
    pages = b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>"  # the tree holds itself
    body = _pdf([_CATALOG, pages, _PAGE, b"<< /Length 0 >>\nstream\n\nendstream"], b"<< /Size 5 /Root 1 0 R >>")
    xref = body.rindex(b"xref\n")
    looping = body.replace(b"/Root 1 0 R >>", b"/Root 1 0 R /Prev %d >>" % xref)
    path.write_bytes(looping)
    return path


def huge_stream_pdf(path: Path, *, megabytes: int = 2048) -> Path:
    """A PDF whose one page's content stream inflates to ``megabytes`` MB of text operators."""
    compressor = zlib.compressobj(1)
    operator = b"BT /F1 12 Tf 72 712 Td (bombe) Tj ET\n" * 28_000  # about 1 MB
    data = b"".join(compressor.compress(operator) for _ in range(megabytes)) + compressor.flush()
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    page = _PAGE.replace(b" >>", b" /Resources << /Font << /F1 5 0 R >> >> >>")
    path.write_bytes(_pdf([_CATALOG, _PAGES, page, content, font], b"<< /Size 6 /Root 1 0 R >>"))
    return path


def one_line_text(path: Path, *, megabytes: int = 50) -> Path:
    word = "actualité "
    path.write_text(word * (megabytes * 1024 * 1024 // len(word.encode())), encoding="utf-8")
    return path


def make_hostile_folder(folder: Path, outside: Path, *, big: bool = True) -> None:
    """Write the hostile corpus into ``folder`` (and one file in ``outside``, another folder),
    with one good article; ``big``: with the 50 MB single-line text."""
    folder.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (folder / "bon-article.txt").write_text(ARTICLE, encoding="utf-8")
    zip_bomb_docx(folder / "bombe.docx")
    nested_html(folder / "imbrique.html")
    looping_xref_pdf(folder / "boucle.pdf")
    huge_stream_pdf(folder / "flux-geant.pdf")
    if big:
        one_line_text(folder / "une-ligne.txt")
    (folder / "nul.txt").write_bytes(b"Titre\n\n" + b"\x00" * 4096 + "texte après des NUL".encode())
    (folder / "utf16-invalide.txt").write_bytes(b"\xff\xfe" + "Titre\n\nTexte".encode("utf-16-le") + b"\x00\xd8\x41")
    secret = outside / "secret.txt"
    secret.write_text("Secret\n\nHors du dossier.", encoding="utf-8")
    (folder / "lien-dehors.txt").symlink_to(secret)
    (folder / "lien-dedans.txt").symlink_to(folder / "bon-article.txt")
    os.mkfifo(folder / "tube.txt")
    names = {  # each with a text of its own: near-duplicates would be skipped as such
        "latin1": (b"caf\xe9-latin1.txt", "Le café de la gare rouvre ses portes après deux ans de travaux."),
        "nfd": ("cafe\u0301-nfd.txt".encode(), "La piscine municipale ferme pour l'été faute de maîtres-nageurs."),
        "emoji": ("journal-📰.txt".encode(), "Le marché de Noël accueille cette année soixante exposants."),
    }
    for label, (name, text) in names.items():  # a name in Latin-1 is not valid UTF-8; NFD writes é as e + ◌́
        with open(os.path.join(os.fsencode(folder), name), "wb") as handle:
            handle.write(f"jeudi 27 mars 2025\n\nNom {label}\n\n{text}\n".encode())
