"""How the Milvus store lays the index out in collections (see :mod:`rag.store.milvus`):
their names by generation, their schemas and indexes, the rows of documents and bodies, the
keys and filters; creating, loading and dropping them."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict

from rag.sources.documents import Document
from rag.store.milvus_client import client_layouts, lite_folders, loaded_collections
from rag.store.milvus_repair import remove_unreadable_index_files
from rag.store.records import IndexInfo

log = logging.getLogger(__name__)

PREFIX = "depeche"
BODY_PART = 16_000  # characters: at most 64 KB of UTF-8, Milvus's longest string
TEXT_MAX = 65_535
HNSW = {"M": 16, "efConstruction": 200}
BM25 = {"bm25_k1": 1.5, "bm25_b": 0.75}
PLACEHOLDER = [0.0, 0.0]


def chunk_key(doc_id: str, sha256: str, position: int) -> int:
    """A passage's id: stable for a document's version, so a writer needs no counter."""
    digest = hashlib.blake2b(f"{doc_id}\0{sha256}\0{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def doc_key(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") >> 1


def quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def in_filter(field: str, values: Sequence) -> str:
    return f"{field} in [{', '.join(quoted(v) if isinstance(v, str) else str(int(v)) for v in values)}]"


DOCUMENT_FIELDS = ["doc_id", "title", "date", "source", "sha256", "rubric", "author", "site", "pages", "kind"]


def collection_names(generation: int) -> dict[str, str]:
    return {part: f"{PREFIX}_g{generation}_{part}" for part in ("chunks", "documents", "bodies")}


def stored_generations(client) -> list[int]:
    found = set()
    for name in client.list_collections():
        head, _, rest = name.partition("_g")
        number = rest.split("_", 1)[0]
        if head == PREFIX and number.isdigit():
            found.add(int(number))
    return sorted(found)


def info_json(info: IndexInfo) -> str:
    return json.dumps(asdict(info))


def meta_row(key: str, value: str) -> dict:
    return {"key": key, "value": value, "placeholder": PLACEHOLDER}


def create_collection(client, name: str, schema, index_params) -> None:
    """A collection, its indexes and loaded. pymilvus would poll each index of an empty
    collection for half a second (``sync``): there is nothing to wait for."""
    shards, replicas = client_layouts.get(id(client), (1, 1))
    client.create_collection(name, schema=schema, num_shards=shards)
    client.create_index(name, index_params, sync=False)
    client.load_collection(name, replica_number=replicas)
    loaded_collections.add((id(client), name))


def drop_collection(client, name: str) -> None:
    if client.has_collection(name):
        client.drop_collection(name)
    loaded_collections.discard((id(client), name))


def load_collection(client, name: str) -> None:
    """Milvus searches only loaded collections; a reopened one starts released. On Milvus Lite,
    index files a killed process left cut short are removed and the load tried again: Milvus
    Lite rebuilds them (:mod:`rag.store.milvus_repair`)."""
    from pymilvus.exceptions import MilvusException

    if (id(client), name) in loaded_collections:
        return
    replicas = client_layouts.get(id(client), (1, 1))[1]
    try:
        client.load_collection(name, replica_number=replicas)
    except MilvusException:
        folder = lite_folders.get(id(client))
        if folder is None or not remove_unreadable_index_files(folder / "collections" / name):
            raise
        client.load_collection(name, replica_number=replicas)
    loaded_collections.add((id(client), name))


def published_generation(client) -> tuple[int, IndexInfo] | None:
    """(generation, its settings) of the published index, or None."""
    if not client.has_collection(f"{PREFIX}_meta"):
        return None
    load_collection(client, f"{PREFIX}_meta")
    rows = {
        r["key"]: r["value"]
        for r in client.query(f"{PREFIX}_meta", filter=in_filter("key", ["current"]), output_fields=["key", "value"])
    }
    if "current" not in rows:
        return None
    generation = int(rows["current"])
    info_rows = client.query(f"{PREFIX}_meta", filter=in_filter("key", [f"info:{generation}"]), output_fields=["value"])
    if not info_rows:
        return None
    return generation, IndexInfo(**json.loads(info_rows[0]["value"]))


def ensure_meta(client) -> None:
    from pymilvus import DataType, MilvusClient

    name = f"{PREFIX}_meta"
    if client.has_collection(name):
        return
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=256)
    schema.add_field("value", DataType.VARCHAR, max_length=TEXT_MAX)
    schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
    create_collection(client, name, schema, placeholder_index(client))
    load_collection(client, name)


def placeholder_index(client):
    params = client.prepare_index_params()
    params.add_index(field_name="placeholder", index_type="FLAT", metric_type="L2")
    return params


def create_generation(client, generation: int, info: IndexInfo) -> None:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    names = collection_names(generation)
    for name in names.values():
        drop_collection(client, name)

    chunks = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    chunks.add_field("chunk_id", DataType.INT64, is_primary=True)
    chunks.add_field("doc_id", DataType.VARCHAR, max_length=1024)
    chunks.add_field("sha256", DataType.VARCHAR, max_length=64)
    chunks.add_field("position", DataType.INT64)
    chunks.add_field("start", DataType.INT64)
    chunks.add_field("end", DataType.INT64)
    chunks.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
    chunks.add_field(
        "terms", DataType.VARCHAR, max_length=TEXT_MAX, enable_analyzer=True, analyzer_params={"tokenizer": "standard"}
    )
    chunks.add_field("vector", DataType.FLOAT_VECTOR, dim=info.dimension)
    chunks.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    chunks.add_function(
        Function(
            name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["sparse"]
        )
    )
    params = client.prepare_index_params()
    params.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=HNSW)
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25)
    params.add_index(field_name="doc_id", index_type="INVERTED")
    create_collection(client, names["chunks"], chunks, params)

    documents = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    documents.add_field("key", DataType.INT64, is_primary=True)
    documents.add_field("doc_id", DataType.VARCHAR, max_length=1024)
    for field in ("title", "source"):
        documents.add_field(field, DataType.VARCHAR, max_length=TEXT_MAX)
    for field in ("date", "rubric", "author", "site", "pages", "minhash"):
        documents.add_field(field, DataType.VARCHAR, max_length=TEXT_MAX, nullable=True)
    for field in ("sha256", "text_hash", "kind", "added_at"):
        documents.add_field(field, DataType.VARCHAR, max_length=64)
    documents.add_field("chunks", DataType.INT64)
    documents.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
    params = placeholder_index(client)
    params.add_index(field_name="doc_id", index_type="INVERTED")
    params.add_index(field_name="text_hash", index_type="INVERTED")
    create_collection(client, names["documents"], documents, params)

    bodies = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    bodies.add_field("key", DataType.INT64, is_primary=True)
    bodies.add_field("doc_id", DataType.VARCHAR, max_length=1024)
    bodies.add_field("sha256", DataType.VARCHAR, max_length=64)
    bodies.add_field("part", DataType.INT64)
    bodies.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
    bodies.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
    params = placeholder_index(client)
    params.add_index(field_name="doc_id", index_type="INVERTED")
    create_collection(client, names["bodies"], bodies, params)

    for name in names.values():
        load_collection(client, name)
    ensure_meta(client)
    client.upsert(f"{PREFIX}_meta", [meta_row(f"info:{generation}", info_json(info))])


def document_row(document: Document, chunks: int, text_hash: str, minhash: bytes | None) -> dict:
    return {
        "key": doc_key(document.doc_id),
        "doc_id": document.doc_id,
        "title": document.title,
        "source": document.source,
        "date": document.date,
        "rubric": document.rubric,
        "author": document.author,
        "site": document.site,
        "pages": json.dumps(list(document.pages)) if document.pages else None,
        "minhash": base64.b64encode(minhash).decode() if minhash else None,
        "sha256": document.sha256,
        "text_hash": text_hash,
        "kind": document.kind,
        "added_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "chunks": chunks,
        "placeholder": PLACEHOLDER,
    }


def body_rows(document: Document) -> list[dict]:
    parts = [document.body[i : i + BODY_PART] for i in range(0, len(document.body), BODY_PART)] or [""]
    return [
        {
            "key": chunk_key(document.doc_id, document.sha256, -1 - n),
            "doc_id": document.doc_id,
            "sha256": document.sha256,
            "part": n,
            "text": text,
            "placeholder": PLACEHOLDER,
        }
        for n, text in enumerate(parts)
    ]


def document_of(row: dict, body: str) -> Document:
    return Document(
        row["doc_id"],
        row["title"],
        row["date"],
        row["source"],
        body,
        row["sha256"],
        row["rubric"],
        row["author"],
        row["site"],
        pages=tuple(json.loads(row["pages"])) if row["pages"] else (),
        kind=row["kind"],
    )


def batches(rows: list, size: int) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
