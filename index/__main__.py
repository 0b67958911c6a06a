"""The index commands.

- ``python -m index build [--from DIR ...] [--if-missing] [--force]``: a new index from seeds/ (and DIRs);
- ``python -m index add PATH ... [--keep-near-duplicates]``: add or update files and folders
  (text, Markdown, HTML, PDF, DOCX), embedding only what changed;
- ``python -m index remove DOC_ID ...``: remove documents;
- ``python -m index rebuild``: index every document anew from its recorded source file, e.g.
  after changing the embedding model or the chunk settings;
- ``python -m index list``: the documents, with their ids, titles, dates, sources and passages;
- ``python -m index status``: what the index holds, where, and how it was built;
- ``python -m index migrate --to URI``: copy the index into another store (``embedded``, a Milvus
  Lite file, ``http://host:19530``) without embedding anything again;
- ``python -m index add-feed URL|FILE ... [--keep-near-duplicates]``: add the entries of RSS/Atom
  feeds and register the feeds (:mod:`index.feeds`);
- ``python -m index refresh``: re-read every registered feed and add only its new entries;
- ``python -m index feeds``: the registered feeds, with their last refresh;
- ``python -m index remove-feed URL|FILE ...``: stop following feeds (their documents stay).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli import run
from rag.config import Settings
from rag.errors import FeedError, IndexCorruptedError, ModelMismatchError
from rag.models.vector_cache import kept_until_published
from rag.store.backend import index_present, indexed_sources, open_index


def build(settings: Settings, folders: list[Path], if_missing: bool, force: bool) -> int:
    sources = [settings.seeds_dir, *folders]
    listed = indexed_sources(settings)
    if listed or index_present(settings):
        if if_missing:
            try:
                store = open_index(settings, embed_model=settings.embed_model)
                print(f"Index présent : {store.location}.")
                store.close()
                return 0
            except (ModelMismatchError, IndexCorruptedError) as error:
                print(f"{error}\nReconstruction à partir des sources de l'index…")
                return rebuild(settings)
        outside = [doc_id for doc_id, source in listed if not _under(Path(source), sources)]
        if outside and not force:
            print(
                f"L'index contient {len(outside)} document(s) ajouté(s) hors de {', '.join(map(str, sources))} "
                f"({', '.join(outside[:3])}{'…' if len(outside) > 3 else ''}) : `python -m index rebuild` les garde, "
                "`python -m index build --force` repart des seuls dossiers donnés."
            )
            return 1
    from index.build import build_index
    from rag.components import load_embedder

    with kept_until_published(load_embedder(settings), settings.home) as embedder:
        report = build_index(settings, sources, embedder)
    _print_resumed(embedder)
    for reason in report.skipped:
        print(f"  ignoré : {reason}")
    print(report.summary())
    return 0


def _under(path: Path, folders: list[Path]) -> bool:
    return any(path.is_relative_to(folder.resolve()) for folder in folders)


def _print_resumed(embedder) -> None:
    """Say how many passages an interrupted run had already embedded (rag.models.vector_cache)."""
    if embedder.reused:
        print(f"{embedder.reused} passages repris d'une indexation interrompue, sans les recalculer.")


def _print_report(report) -> None:
    for note in report.notes():
        print(f"  {note}")
    print(report.summary())


def add(settings: Settings, paths: list[Path], keep_near_duplicates: bool) -> int:
    from index.update import add_documents
    from rag.components import lazy_embedder

    with kept_until_published(lazy_embedder(settings), settings.home) as embedder:
        report = add_documents(settings, paths, embedder, keep_near_duplicates=keep_near_duplicates)
    _print_resumed(embedder)
    _print_report(report)
    return 0


def remove(settings: Settings, doc_ids: list[str]) -> int:
    from index.update import remove_documents

    report = remove_documents(settings, doc_ids)
    _print_report(report)
    return 1 if report.unknown and not report.removed else 0


def rebuild(settings: Settings) -> int:
    from index.update import rebuild_index
    from rag.components import lazy_embedder

    with kept_until_published(lazy_embedder(settings), settings.home) as embedder:
        report = rebuild_index(settings, embedder)
    _print_resumed(embedder)
    _print_report(report)
    return 0


def list_documents(settings: Settings) -> int:
    store = open_index(settings)
    for doc in store.documents():
        print(f"{doc.doc_id}\t{doc.title}\t{doc.date or '—'}\t{doc.source}\t{doc.chunks} passages")
    documents, chunks = store.counts()
    print(f"{documents} documents, {chunks} passages.")
    return 0


def status(settings: Settings) -> int:
    store = open_index(settings)  # any model: status describes what is there
    documents, chunks = store.counts()
    info = store.info
    print(f"Dossier de données : {settings.home}")
    print(f"Magasin : {store.location}")
    print(f"Documents : {documents}")
    print(f"Passages : {chunks}")
    print(f"Modèle d'embedding : {info.embed_model} ({info.dimension} dimensions)")
    print(f"Découpage : {info.chunk_size} caractères, chevauchement {info.chunk_overlap}")
    print(f"Version : {store.version}")
    print(f"Segments : {store.layout}")
    if warning := getattr(store, "warning", None):
        print(f"Attention : {warning}")
    if info.embed_model != settings.embed_model:
        print(f"Attention : le modèle configuré est {settings.embed_model} ; lancez `python -m index rebuild`.")
    if (info.chunk_size, info.chunk_overlap) != (settings.chunks.size, settings.chunks.overlap):
        print(
            f"Attention : le découpage configuré est {settings.chunks.size}/{settings.chunks.overlap} ; "
            "lancez `python -m index rebuild`."
        )
    return 0


def optimize(settings: Settings) -> int:
    """Fold every segment of the index into one, without what removals hid."""
    import time

    from index.writing import new_version

    started = time.perf_counter()
    with new_version(settings) as store:
        before = store.layout
        store.optimize()
    after = open_index(settings)
    print(f"Index optimisé en {time.perf_counter() - started:.1f} s : avant, {before} ; maintenant, {after.layout}.")
    return 0


def migrate(settings: Settings, target: str, token: str | None, force: bool) -> int:
    """Copy every document, passage and vector of the configured store into ``target``."""
    import time

    from tqdm import tqdm

    from index.writing import new_version
    from rag.store.milvus import public_uri

    destination = settings.with_(
        milvus_uri="" if target == "embedded" else target,
        milvus_token=settings.milvus_token if token is None else token,
    )
    where = "le magasin intégré" if target == "embedded" else public_uri(target)
    if destination.milvus_uri == settings.milvus_uri:
        print(f"L'index est déjà dans {where} : rien à copier.")
        return 1
    source = open_index(settings)
    if index_present(destination) and not force:
        print(f"{where} contient déjà un index : `--force` le remplace (la version d'avant est gardée).")
        return 1
    started = time.perf_counter()
    documents, chunks = source.counts()
    with new_version(destination, fresh=source.info) as store:
        for stored in tqdm(source.export(), total=documents, unit="doc", desc="Copie", disable=None):
            store.add_document(
                stored.document, stored.chunks, stored.vectors, text_hash=stored.text_hash, minhash=stored.minhash
            )
    copied = open_index(destination).counts()
    if copied != (documents, chunks):
        print(f"Copie incomplète : {copied[0]} documents et {copied[1]} passages sur {documents} et {chunks}.")
        return 1
    print(
        f"{documents} documents, {chunks} passages copiés de {source.location} vers {where} "
        f"en {time.perf_counter() - started:.1f} s, sans recalculer de vecteur."
    )
    setting = "DEPECHE_MILVUS_URI= (vide)" if target == "embedded" else f"DEPECHE_MILVUS_URI={public_uri(target)}"
    print(f"Pour s'en servir : {setting}.")
    return 0


def add_feeds(settings: Settings, locations: list[str], keep_near_duplicates: bool) -> int:
    """Add the entries of each feed and register it; a feed that fails is one line, the next is read."""
    from index.feeds import add_feed
    from rag.components import lazy_embedder

    failed = 0
    for location in locations:
        try:
            with kept_until_published(lazy_embedder(settings), settings.home) as embedder:
                report = add_feed(settings, location, embedder, keep_near_duplicates=keep_near_duplicates)
        except FeedError as error:
            print(f"Erreur : {error}", file=sys.stderr)
            failed += 1
            continue
        _print_report(report)
    return 1 if failed else 0


def refresh(settings: Settings, keep_near_duplicates: bool) -> int:
    """Re-read every registered feed; exit code 1 if any failed."""
    from index.feed_registry import FeedRegistry
    from index.feeds import refresh_feeds
    from rag.components import lazy_embedder

    if not FeedRegistry(settings.feeds_db).feeds():
        print("Aucun flux enregistré : ajoutez-en un avec `python -m index add-feed URL`.")
        return 0
    read = failed = added = 0
    for outcome in refresh_feeds(settings, lazy_embedder(settings), keep_near_duplicates=keep_near_duplicates):
        read += 1
        if isinstance(outcome, FeedError):
            print(f"Erreur : {outcome}", file=sys.stderr)
            failed += 1
            continue
        _print_report(outcome)
        added += len(outcome.added)
    print(f"{read} flux relu(s) : {added} document(s) ajouté(s), {failed} flux en échec.")
    return 1 if failed else 0


def list_feeds(settings: Settings) -> int:
    from index.feed_registry import FeedRegistry, local_time

    feeds = FeedRegistry(settings.feeds_db).feeds()
    for feed in feeds:
        error = f"\terreur le {local_time(feed.failed_at)} : {feed.error}" if feed.error else ""
        print(
            f"{feed.location}\t{feed.title}\tlu le {local_time(feed.refreshed_at)}\t"
            f"{feed.entries} entrées, {feed.added} ajoutée(s){error}"
        )
    print(f"{len(feeds)} flux enregistré(s).")
    return 0


def remove_feeds(settings: Settings, locations: list[str]) -> int:
    from index.feed_registry import FeedRegistry
    from rag.sources.feeds import feed_location

    registry = FeedRegistry(settings.feeds_db)
    unknown = 0
    for location in locations:
        if registry.forget(feed_location(location)):
            print(f"Flux retiré : {location} (ses documents restent dans l'index).")
        else:
            print(f"Flux inconnu : {location} (voir python -m index feeds).")
            unknown += 1
    return 1 if unknown == len(locations) else 0


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
    build_parser.add_argument(
        "--force", action="store_true", help="oublier les documents ajoutés hors des dossiers donnés"
    )
    add_parser = commands.add_parser("add", help="ajouter ou mettre à jour des fichiers ou dossiers")
    add_parser.add_argument("paths", nargs="+", type=Path, help="fichiers ou dossiers (parcourus récursivement)")
    add_parser.add_argument(
        "--keep-near-duplicates",
        action="store_true",
        help="indexer aussi les quasi-doublons (la même dépêche légèrement retouchée)",
    )
    remove_parser = commands.add_parser("remove", help="retirer des documents")
    remove_parser.add_argument("doc_ids", nargs="+", help="identifiants (voir python -m index list)")
    commands.add_parser("rebuild", help="tout réindexer depuis les fichiers sources (nouveau modèle, découpage)")
    commands.add_parser("list", help="lister les documents")
    commands.add_parser("status", help="décrire l'index")
    commands.add_parser("optimize", help="fusionner les segments de l'index et libérer la place des documents retirés")
    migrate_parser = commands.add_parser("migrate", help="copier l'index dans un autre magasin (Milvus)")
    migrate_parser.add_argument(
        "--to", required=True, help="embedded, un fichier Milvus Lite ou http://hôte:19530 (un serveur Milvus)"
    )
    migrate_parser.add_argument("--token", default=None, help="jeton du serveur cible (défaut : DEPECHE_MILVUS_TOKEN)")
    migrate_parser.add_argument("--force", action="store_true", help="remplacer un index déjà présent dans la cible")
    feed_parser = commands.add_parser("add-feed", help="ajouter les articles de flux RSS/Atom et suivre ces flux")
    feed_parser.add_argument("locations", nargs="+", metavar="URL|FICHIER", help="adresses http(s) ou fichiers de flux")
    refresh_parser = commands.add_parser("refresh", help="relire les flux suivis, ajouter leurs nouveaux articles")
    for near_parser in (feed_parser, refresh_parser):
        near_parser.add_argument("--keep-near-duplicates", action="store_true", help="indexer aussi les quasi-doublons")
    commands.add_parser("feeds", help="lister les flux suivis et leur dernière lecture")
    forget_parser = commands.add_parser("remove-feed", help="ne plus suivre des flux (leurs documents restent)")
    forget_parser.add_argument("locations", nargs="+", metavar="URL|FICHIER")
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.command == "build":
        return build(settings, args.folders, args.if_missing, args.force)
    if args.command == "add":
        return add(settings, args.paths, args.keep_near_duplicates)
    if args.command == "rebuild":
        return rebuild(settings)
    if args.command == "remove":
        return remove(settings, args.doc_ids)
    if args.command == "list":
        return list_documents(settings)
    if args.command == "migrate":
        return migrate(settings, args.to, args.token, args.force)
    if args.command == "optimize":
        return optimize(settings)
    if args.command == "add-feed":
        return add_feeds(settings, args.locations, args.keep_near_duplicates)
    if args.command == "refresh":
        return refresh(settings, args.keep_near_duplicates)
    if args.command == "feeds":
        return list_feeds(settings)
    if args.command == "remove-feed":
        return remove_feeds(settings, args.locations)
    return status(settings)


def entry() -> None:
    run(main)


if __name__ == "__main__":
    entry()
