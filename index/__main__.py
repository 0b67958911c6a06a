"""``python -m index build [--from DIR ...] [--if-missing]`` and ``python -m index status``."""

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
    commands.add_parser("status", help="décrire l'index")
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.command == "build":
        return build(settings, args.folders, args.if_missing)
    return status(settings)


def entry() -> None:
    run(main)


if __name__ == "__main__":
    entry()
