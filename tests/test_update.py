"""Incremental add / update / remove: only changed files are embedded; all or nothing."""

import shutil

import pytest

from index.build import build_index
from index.update import add_documents, rebuild_index, remove_documents
from rag.config import PROJECT_ROOT, ChunkSettings
from rag.errors import IndexMissingError
from rag.store.backend import open_index
from tests.conftest import BACKENDS, SEEDS, on_backend
from tests.consistency import check_store

SEED_IDS = ["2024-10-openai-paris", "2025-03-27-openai-munich"]

ARTICLE = (
    "Tramway : la ligne T10 est ouverte\n\n"
    "La métropole de Lyon a inauguré samedi la ligne T10, qui relie Gerland à Vénissieux."
)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "lyon.txt").write_text(ARTICLE, encoding="utf-8")
    return folder


@pytest.fixture(params=BACKENDS)
def settings(request, settings):
    """Every test here runs on each store: embedded, Milvus Lite, Milvus Lite over gRPC."""
    return on_backend(request.param, settings, request)


def open_store(settings, embedder):
    return open_index(settings, embed_model=embedder.name)


def test_add_embeds_only_the_new_document(settings, fake_embedder, corpus):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    before = open_store(settings, fake_embedder).counts()
    embedded = []
    original = fake_embedder.embed_passages
    fake_embedder.embed_passages = lambda texts: embedded.extend(texts) or original(texts)
    report = add_documents(settings, [corpus], fake_embedder, progress=False)
    assert report.added == ["lyon"] and report.updated == report.unchanged == []
    assert embedded and all("Lyon" in text or "T10" in text for text in embedded)
    store = open_store(settings, fake_embedder)
    assert store.counts() == (before[0] + 1, before[1] + report.chunks)
    assert store.keyword_search("Vénissieux", 1)  # BM25 knows it
    assert report.summary().startswith("1 ajouté(s), 0 mis à jour, 0 inchangé(s)")


def test_readding_an_unchanged_file_does_nothing_and_a_changed_one_is_replaced(settings, fake_embedder, corpus):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    add_documents(settings, [corpus], fake_embedder, progress=False)
    again = add_documents(settings, [corpus / "lyon.txt"], fake_embedder, progress=False)
    assert again.unchanged == ["lyon"] and again.chunks == 0
    (corpus / "lyon.txt").write_text(ARTICLE.replace("samedi", "dimanche") + " Coût : 200 millions.", "utf-8")
    changed = add_documents(settings, [corpus], fake_embedder, progress=False)
    assert changed.updated == ["lyon"]
    store = open_store(settings, fake_embedder)
    texts = [p.text for p in store.passages(store.keyword_search("Gerland", 5)) if p.doc_id == "lyon"]
    assert texts and all("dimanche" in t for t in texts)  # the old chunks are gone


def test_remove_drops_rows_vectors_and_keywords(settings, fake_embedder, corpus):
    build_index(settings, [SEEDS, corpus], fake_embedder, progress=False)
    documents, chunks = open_store(settings, fake_embedder).counts()
    report = remove_documents(settings, ["lyon", "nowhere"])
    assert report.removed == ["lyon"] and report.unknown == ["nowhere"]
    store = open_store(settings, fake_embedder)  # reopening checks FAISS and rows agree
    assert store.document("lyon") is None and store.counts()[0] == documents - 1
    assert all(p.doc_id != "lyon" for p in store.passages(store.keyword_search("Vénissieux Gerland", 5)))
    assert store.counts()[1] < chunks


def test_first_add_creates_the_index(settings, fake_embedder, corpus):
    report = add_documents(settings, [corpus], fake_embedder, progress=False)
    assert report.added == ["lyon"] and open_store(settings, fake_embedder).counts()[0] == 1


def test_a_failed_add_leaves_the_index_as_it_was(settings, fake_embedder, corpus):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    before = open_store(settings, fake_embedder).counts()

    def broken(texts):
        raise RuntimeError("embedding crashed")

    fake_embedder.embed_passages = broken
    with pytest.raises(RuntimeError):
        add_documents(settings, [corpus], fake_embedder, progress=False)
    assert open_store(settings, fake_embedder).counts() == before
    assert not [p for p in settings.home.iterdir() if p.name.startswith("index-updating-")]


def test_remove_without_an_index_is_a_clear_error(settings):
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    with pytest.raises(IndexMissingError):
        remove_documents(settings, ["lyon"])


WIRE = (
    "Grève à la SNCF : le trafic très perturbé jeudi\n\n"
    "Le trafic sera très perturbé jeudi sur l'ensemble du réseau SNCF, à l'appel de quatre syndicats "
    "qui protestent contre la réforme des retraites. La direction prévoit un TGV sur trois et un TER "
    "sur deux en moyenne, avec de fortes disparités selon les régions. Les voyageurs sont invités à "
    "reporter leurs déplacements ou à se renseigner avant de partir. Les Intercités seront les plus "
    "touchés, avec seulement un train sur quatre sur les grandes lignes. En Île-de-France, le RER B et "
    "le RER D circuleront très peu. Les syndicats ont déjà annoncé une nouvelle journée de mobilisation "
    "la semaine prochaine si le gouvernement ne retire pas son projet."
)


def test_an_exact_duplicate_from_another_file_is_indexed_once(settings, fake_embedder, tmp_path):
    first, second = tmp_path / "afp", tmp_path / "reprise"
    first.mkdir()
    second.mkdir()
    (first / "greve.txt").write_text(WIRE, encoding="utf-8")
    reflowed = WIRE.replace(". ", ".\n").replace("'", "’").upper()  # same words, other layout
    (second / "greve-sncf.txt").write_text(reflowed, encoding="utf-8")
    report = add_documents(settings, [first, second], fake_embedder, progress=False)
    assert report.added == ["greve"]
    assert len(report.duplicates) == 1 and "greve-sncf.txt" in report.duplicates[0] and "greve" in report.duplicates[0]
    assert "1 doublon(s) écarté(s)" in report.summary()
    again = add_documents(settings, [second], fake_embedder, progress=False)  # also against the index
    assert again.added == [] and len(again.duplicates) == 1


def test_a_near_duplicate_is_reported_and_kept_only_when_asked(settings, fake_embedder, tmp_path):
    (tmp_path / "afp.txt").write_text(WIRE, encoding="utf-8")
    rewritten = (
        WIRE.replace("Grève à la SNCF : le trafic très perturbé jeudi", "SNCF : jeudi noir sur les rails")
        .replace("en moyenne", "environ")
        .replace("Les voyageurs sont invités", "(AFP) Les usagers sont invités")
        + " Le Parisien avec AFP."
    )
    (tmp_path / "le-parisien.txt").write_text(rewritten, encoding="utf-8")
    add_documents(settings, [tmp_path / "afp.txt"], fake_embedder, progress=False)
    skipped = add_documents(settings, [tmp_path / "le-parisien.txt"], fake_embedder, progress=False)
    assert skipped.added == [] and len(skipped.near_duplicates) == 1
    assert "proche de « afp »" in skipped.near_duplicates[0] and "--keep-near-duplicates" in skipped.near_duplicates[0]
    kept = add_documents(
        settings, [tmp_path / "le-parisien.txt"], fake_embedder, keep_near_duplicates=True, progress=False
    )
    assert kept.added == ["le-parisien"] and len(kept.kept_near_duplicates) == 1
    assert "1 quasi-doublon(s) gardé(s)" in kept.summary()


def test_files_with_the_same_name_in_two_folders_are_two_documents(settings, fake_embedder, tmp_path):
    for folder, text in (
        ("lyon", "Tramway à Lyon\n\nLa ligne T10 relie Gerland à Vénissieux depuis samedi."),
        ("lille", "Tramway à Lille\n\nLe tram-train de la métropole lilloise est reporté à 2035, faute de budget."),
    ):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "tramway.txt").write_text(text, "utf-8")
    add_documents(settings, [tmp_path / "lyon"], fake_embedder, progress=False)
    report = add_documents(settings, [tmp_path / "lille"], fake_embedder, progress=False)
    assert report.added == ["tramway-2"] and report.updated == []
    assert open_store(settings, fake_embedder).document("tramway").title == "Tramway à Lyon"


def test_rebuild_reads_the_sources_again_and_keeps_those_that_are_gone(settings, fake_embedder, corpus):
    add_documents(settings, [SEEDS, corpus], fake_embedder, progress=False)
    (corpus / "lyon.txt").unlink()
    rebuilt = rebuild_index(settings.with_(chunks=ChunkSettings(size=200, overlap=20)), fake_embedder, progress=False)
    assert sorted(rebuilt.rebuilt) == sorted(["lyon", *SEED_IDS])
    assert len(rebuilt.from_store) == 1 and "lyon.txt" in rebuilt.from_store[0]
    store = open_store(settings, fake_embedder)
    assert store.info.chunk_size == 200 and store.document("lyon").body.startswith("La métropole")
    assert check_store(settings) == {"lyon", *SEED_IDS}


def test_every_format_goes_in_and_a_pdf_passage_knows_its_page(settings, fake_embedder, tmp_path):
    from tests.test_readers import make_docx, make_pdf

    folder = tmp_path / "formats"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "tests" / "fixtures" / "article-presse.html", folder / "article-presse.html")
    pages = [
        [f"Page {n} du rapport régional sur les transports, consacrée au {topic}."] * 5
        for n, topic in ((1, "tramway de Lyon"), (2, "métro de Lille"), (3, "téléphérique de Toulouse"))
    ]
    make_pdf(folder / "rapport.pdf", pages, metadata={"/Title": "Rapport sur les transports"})
    make_docx(folder / "note.docx")
    old_text = "Été à Besançon\n\nLa fête a réuni 5 000 personnes, un œuf géant."
    (folder / "ancien.txt").write_bytes(old_text.encode("cp1252"))
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not text")
    (folder / "vide.txt").write_text("", encoding="utf-8")

    report = add_documents(settings, [folder], fake_embedder, progress=False)
    assert sorted(report.added) == ["ancien", "article-presse", "note", "rapport"]
    assert len(report.skipped) == 2 and any("photo.jpg" in s for s in report.skipped)
    store = open_store(settings, fake_embedder)
    assert store.document("ancien").title == "Été à Besançon"
    cable = store.passages(store.keyword_search("téléphérique Toulouse", 1))[0]
    assert (cable.doc_id, cable.page, cable.location) == ("rapport", 3, "p. 3")
    assert store.document("rapport").pages[0] == 0 and store.document("rapport").kind == "pdf"
    assert store.document("article-presse").site
