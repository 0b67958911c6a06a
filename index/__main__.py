"""The index commands.

- ``python -m index build [--from DIR ...] [--if-missing]``: a new index from seeds/ (and DIRs);
- ``python -m index add PATH ...``: add or update files and folders, embedding only what changed;
- ``python -m index remove DOC_ID ...``: remove documents;
- ``python -m index list``: the documents, with their ids, titles, dates, sources and passages;
- ``python -m index status``: what the index holds and how it was built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.cli import run
from rag.config import Settings
from rag.errors import IndexCorruptedError, ModelMismatchError
from rag.store import IndexStore, index_exists, recorded_sources


def build(settings: Settings, folders: list[Path], if_missing: bool) -> int:
    sources = [settings.seeds_dir, *folders]
    if if_missing and index_exists(settings.index_dir):
        try:
            IndexStore.open(settings.index_dir, embed_model=settings.embed_model).close()
            print(f"Index présent dans {settings.index_dir}.")
            return 0
        except (ModelMismatchError, IndexCorruptedError) as error:
            # Rebuild from every file the old index held, not only the seeds.
            print(f"{error}\nReconstruction à partir des fichiers de l'index…")
            recorded = [path for path in recorded_sources(settings.index_dir) if path.exists()]
            sources += [path for path in recorded if not path.is_relative_to(settings.seeds_dir)]
    from index.build import build_index
    from rag.components import load_embedder

    report = build_index(settings, sources, load_embedder(settings))
    for reason in report.skipped:
        print(f"  ignoré : {reason}")
    print(report.summary())
    return 0


def add(settings: Settings, paths: list[Path]) -> int:
    from index.update import add_documents
    from rag.components import load_embedder

    report = add_documents(settings, paths, load_embedder(settings))
    for reason in report.skipped:
        print(f"  ignoré : {reason}")
    print(report.summary())
    return 0


def remove(settings: Settings, doc_ids: list[str]) -> int:
    from index.update import remove_documents

    report = remove_documents(settings, doc_ids)
    for doc_id in report.unknown:
        print(f"  inconnu : {doc_id}")
    print(report.summary())
    return 1 if report.unknown and not report.removed else 0


def list_documents(settings: Settings) -> int:
    store = IndexStore.open(settings.index_dir)
    for doc in store.documents():
        print(f"{doc.doc_id}\t{doc.title}\t{doc.date or '—'}\t{doc.source}\t{doc.chunks} passages")
    documents, chunks = store.counts()
    print(f"{documents} documents, {chunks} passages.")
    return 0


def status(settings: Settings) -> int:
    store = IndexStore.open(settings.index_dir)  # any model: status describes what is there
    documents, chunks = store.counts()
    info = store.info
    print(f"Dossier de données : {settings.home}")
    print(f"Documents : {documents}")
    print(f"Passages : {chunks}")
    print(f"Modèle d'embedding : {info.embed_model} ({info.dimension} dimensions)")
    print(f"Découpage : {info.chunk_size} caractères, chevauchement {info.chunk_overlap}")
    if info.embed_model != settings.embed_model:
        print(f"Attention : le modèle configuré est {settings.embed_model} ; reconstruisez l'index.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m index", description="Construire l'index.")
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="(re)construire l'index depuis seeds/")
    build_parser.add_argument(
        "--from",
        dest="folders",
        type=Path,
        action="append",
        default=[],
        help="un dossier d'articles de plus (répétable)",
    )
    build_parser.add_argument("--if-missing", action="store_true", help="ne rien faire si un index existe")
    add_parser = commands.add_parser("add", help="ajouter ou mettre à jour des fichiers ou dossiers")
    add_parser.add_argument("paths", nargs="+", type=Path, help="fichiers ou dossiers (parcourus récursivement)")
    remove_parser = commands.add_parser("remove", help="retirer des documents")
    remove_parser.add_argument("doc_ids", nargs="+", help="identifiants (voir python -m index list)")
    commands.add_parser("list", help="lister les documents")
    commands.add_parser("status", help="décrire l'index")
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.command == "build":
        return build(settings, args.folders, args.if_missing)
    if args.command == "add":
        return add(settings, args.paths)
    if args.command == "remove":
        return remove(settings, args.doc_ids)
    if args.command == "list":
        return list_documents(settings)
    return status(settings)


def entry() -> None:
    run(main)


if __name__ == "__main__":
    entry()
