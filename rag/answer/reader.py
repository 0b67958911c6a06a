"""Extractive reading: where in the passages the answer is, and how sure the reader is.

The reader is multilingual-e5-small, the XLM-RoBERTa encoder the project already ships, with
a question-answering head (start and end logits per token). It was trained here on PIAF
(``python -m eval train-reader``, :mod:`eval.studies.train_reader`). Only what training changed is
committed: the top layers and the head, in fp16, in ``rag/answer/weights/``. They are loaded
on top of the packaged e5-small, and both are checked by sha256 first.

Reading a question over passages:

1. each passage is paired with the question and tokenized into windows
   (:func:`encode_windows`; a passage of 800 characters fits in one);
2. one batched forward pass gives every window's start and end logits;
3. in each window, the sentence that holds the answer is the one the spans' probability points
   at (:func:`sentence_order`: every span inside it counts, not only the best), and the span
   is the pair (start, end) in that sentence with the highest start + end logit, at most
   ``MAX_ANSWER_TOKENS`` long. Its *margin* is that score minus the window's no-answer score
   (the logits of its first token, ``<s>``), as in SQuAD 2.0 readers;
4. the best span over all windows is the reading. Its confidence is the margin through a
   logistic fit on held-out PIAF examples, answerable and not (:class:`Calibration`).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answer.citations import content_words
from rag.config import PROJECT_ROOT
from rag.errors import ModelLoadError
from rag.models.checksums import file_sha256
from rag.search.evidence import sentence_spans

log = logging.getLogger(__name__)

WEIGHTS_DIR = PROJECT_ROOT / "rag" / "answer" / "weights"
WEIGHTS = WEIGHTS_DIR / "e5-small-piaf-reader.safetensors"
MANIFEST = WEIGHTS_DIR / "e5-small-piaf-reader.json"
MAX_LENGTH = 384  # tokens in a window: question + passage piece
STRIDE = 128  # tokens shared by two windows of a long passage
MAX_ANSWER_TOKENS = 40
RETRAIN = "`make reader`"
# The margin a passage loses per rank of the search (:func:`choose`): chosen on held-out PIAF
# searched as the product searches, ``python -m eval passage-choice`` (span F1 0.383 for the
# search's order, 0.381 for the highest margin, 0.397 at 2).
RANK_PENALTY = 2.0


@dataclass(frozen=True)
class Calibration:
    """P(the reading is right) = 1 / (1 + exp(-z)), with
    z = slope * margin + coverage_weight * coverage + name_weight * missing_name + intercept.

    The margin is the reader's; ``coverage`` (the share of the question's terms the passages
    hold) and ``missing_name`` (the question names something no passage mentions) are what the
    answer check knows (:class:`rag.answer.checking.AnswerChecker`). The weights are fitted
    together on held-out PIAF (:mod:`eval.studies.train_reader`)."""

    slope: float
    intercept: float
    coverage_weight: float = 0.0
    name_weight: float = 0.0

    def probability(self, margin: float, coverage: float = 1.0, missing_name: bool = False) -> float:
        """The calibrated probability.

        >>> round(Calibration(1.0, 0.0).probability(0.0), 2), round(Calibration(2.0, -1.0).probability(3.0), 3)
        (0.5, 0.993)
        >>> round(Calibration(1.0, -2.0, 2.0, -3.0).probability(1.0, coverage=0.5, missing_name=True), 3)
        0.047
        """
        z = self.slope * margin + self.coverage_weight * coverage + self.name_weight * missing_name + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, z))))


@dataclass(frozen=True)
class Reading:
    """The best answer span: which passage, where in its text, and how sure."""

    passage: int  # index in the passages given to :meth:`Reader.read`
    start: int  # character offsets of the span in that passage's text
    end: int
    text: str
    score: float  # start + end logit of the span
    null_score: float  # the window's no-answer score
    confidence: float  # calibrated probability that the span answers, from the margin alone
    sentence: tuple[int, int] | None = None  # the passage's sentence the span was read in
    mass: float | None = None  # log of the summed probability of that sentence's spans, less the no-answer score

    @property
    def margin(self) -> float:
        return self.score - self.null_score


@dataclass
class Windows:
    """Tokenized (question, passage) windows, with what maps their tokens back to text."""

    input_ids: np.ndarray  # (windows, length), padded
    attention_mask: np.ndarray
    passage: list[int]  # the passage each window comes from
    offsets: list[list[tuple[int, int] | None]]  # per token: its characters in the passage, or None


def encode_windows(tokenizer, question: str, passages: Sequence[str]) -> Windows:
    """Pair ``question`` with each passage; a passage longer than a window is cut into
    overlapping windows (``STRIDE``). Only passage tokens keep offsets: a span can only be
    taken from the passage."""
    encoded = tokenizer(
        [question] * len(passages),
        list(passages),
        truncation="only_second",
        max_length=MAX_LENGTH,
        stride=STRIDE,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="longest",
        return_tensors="np",
    )
    offsets = []
    for window in range(len(encoded["input_ids"])):
        sequence = encoded.sequence_ids(window)
        offsets.append(
            [
                tuple(o) if s == 1 else None
                for o, s in zip(encoded["offset_mapping"][window].tolist(), sequence, strict=True)
            ]
        )
    return Windows(
        input_ids=encoded["input_ids"],
        attention_mask=encoded["attention_mask"],
        passage=[int(p) for p in encoded["overflow_to_sample_mapping"]],
        offsets=offsets,
    )


def token_sentences(offsets: Sequence[tuple[int, int] | None], text: str) -> np.ndarray:
    """Per token, the index of the sentence of ``text`` (:func:`rag.search.evidence.sentence_spans`)
    its last character is in; -1 for a token outside the passage.

    >>> token_sentences([None, (0, 2), (3, 9), (9, 13), (13, 20)], "Un bureau. Il recrute.").tolist()
    [-1, 0, 0, 1, 1]
    """
    starts = np.array([start for start, _ in sentence_spans(text)] or [0])
    tokens = [token for token, offset in enumerate(offsets) if offset is not None]
    last = np.array([max(offsets[token][1] - 1, offsets[token][0]) for token in tokens], dtype=int)
    ids = np.full(len(offsets), -1)
    ids[tokens] = np.maximum(np.searchsorted(starts, last, side="right") - 1, 0)
    return ids


def sentence_masses(start_logits: np.ndarray, end_logits: np.ndarray, sentences: np.ndarray) -> dict[int, float]:
    """Each sentence's score: the log of the summed probability (start and end logits) of
    every span inside it, at most ``MAX_ANSWER_TOKENS`` long.

    >>> starts = np.array([0.0, 3.0, 0.0, 2.5, 2.5]); ends = np.array([0.0, 3.0, 0.0, 2.5, 2.5])
    >>> {s: round(m, 2) for s, m in sentence_masses(starts, ends, np.array([-1, 0, 0, 1, 1])).items()}
    {0: 6.05, 1: 6.1}
    """
    scores = {}
    for sentence in np.unique(sentences[sentences >= 0]).tolist():
        tokens = np.flatnonzero(sentences == sentence)
        gap = tokens[None, :] - tokens[:, None]
        pairs = (start_logits[tokens][:, None] + end_logits[tokens][None, :])[(gap >= 0) & (gap < MAX_ANSWER_TOKENS)]
        top = float(pairs.max())
        scores[sentence] = top + math.log(float(np.exp(pairs - top).sum()))
    return scores


def sentence_order(start_logits: np.ndarray, end_logits: np.ndarray, sentences: np.ndarray) -> list[int]:
    """The sentences of a window, the likeliest to hold the answer first: a sentence's score
    is the log of the summed probability of every span inside it (start and end logits, at
    most ``MAX_ANSWER_TOKENS`` long), so a sentence where many spans read well beats one with
    a single sharp span. Against the best span's sentence, on held-out PIAF searched as the
    product searches (620 questions, the passage chosen by :func:`choose`), the sentence holds
    the gold answer in 63.2 % of questions against 62.7 %, and span F1 is 0.421 against 0.417.

    >>> starts = np.array([0.0, 3.0, 0.0, 2.5, 2.5]); ends = np.array([0.0, 3.0, 0.0, 2.5, 2.5])
    >>> sentence_order(starts, ends, np.array([-1, 0, 0, 1, 1]))  # 0 has the best span, 1 more mass
    [1, 0]
    """
    scores = sentence_masses(start_logits, end_logits, sentences)
    return sorted(scores, key=lambda sentence: -scores[sentence])


def best_span(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int] | None],
    top: int = 20,
    text: str | None = None,
    question_words: set[str] | None = None,
) -> tuple[int, int, float] | None:
    r"""The (first token, last token, score) of the best span made of passage tokens; with the
    passage's ``text``, the best span of the likeliest sentence (:func:`sentence_order`; the
    next one when it has no span that may answer), a span never crosses a paragraph break (a
    heading and the paragraph after it are not one answer), and, with the question's content
    words, a span made only of them is no answer («Outre Paris, quelle ville… ?» is not answered «Paris»): of PIAF's
    3,835 gold answers, 14 (0.4 %) are, most of them slips («Qui est la mère de Nymphadora
    Tonks ?» → «Nymphadora»).

    >>> starts = np.array([5.0, 0.0, 3.0, 1.0]); ends = np.array([5.0, 0.0, 1.0, 4.0])
    >>> best_span(starts, ends, [None, (0, 2), (3, 8), (9, 12)])  # token 0 is <s>: never a span
    (2, 3, 7.0)
    >>> best_span(starts, ends, [None, (0, 2), (3, 8), (9, 12)], text="Un titre\n\nUn texte.")
    (3, 3, 5.0)
    >>> ends = np.array([5.0, 0.0, 4.5, 1.0]); offsets = [None, (0, 2), (3, 8), (9, 18)]
    >>> best_span(starts, ends, offsets, text="Un Paris Bruxelles"), best_span(  # «Paris» alone repeats the question
    ...     starts, ends, offsets, text="Un Paris Bruxelles", question_words={"paris"})
    ((2, 2, 7.5), (2, 3, 4.0))
    """
    if text is None:
        return _top_span(start_logits, end_logits, offsets, top, None, None)
    sentences = token_sentences(offsets, text)
    for sentence in sentence_order(start_logits, end_logits, sentences):
        inside = [offset if s == sentence else None for offset, s in zip(offsets, sentences, strict=True)]
        span = _top_span(start_logits, end_logits, inside, top, text, question_words)
        if span is not None:
            return span
    return None


def _top_span(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int] | None],
    top: int,
    text: str | None,
    question_words: set[str] | None,
) -> tuple[int, int, float] | None:
    """The best span among the tokens that have offsets (:func:`best_span`'s search)."""
    allowed = np.array([o is not None for o in offsets])
    if not allowed.any():
        return None
    starts = np.where(allowed, start_logits, -np.inf)
    ends = np.where(allowed, end_logits, -np.inf)
    best = None
    for i in np.argsort(-starts)[:top]:
        if not allowed[i]:
            break
        for j in np.argsort(-ends)[:top]:
            if not allowed[j]:
                break
            if i <= j < i + MAX_ANSWER_TOKENS:
                score = float(starts[i] + ends[j])
                if best is not None and score <= best[2]:
                    continue
                if text is not None:
                    span = text[offsets[i][0] : offsets[j][1]]
                    if "\n\n" in span or (question_words and _repeats(span, question_words)):
                        continue
                best = (int(i), int(j), score)
    return best


def _repeats(span: str, question_words: set[str]) -> bool:
    """Whether the span's content words are all the question's (a span without any is kept)."""
    words = content_words(span)
    return bool(words) and words <= question_words


def load_manifest(manifest: Path = MANIFEST) -> dict:
    try:
        return json.loads(manifest.read_text())
    except (OSError, ValueError):
        raise ModelLoadError(f"Lecteur : manifeste {manifest.name} absent ou illisible : relancez {RETRAIN}.") from None


class Reader:
    """The trained reader on top of e5-small (``base``: the packaged e5-small folder)."""

    def __init__(
        self,
        base: Path,
        *,
        weights: Path = WEIGHTS,
        manifest: Path = MANIFEST,
        threads: int | None = None,
        int8: bool = False,
    ) -> None:
        import torch
        from safetensors.torch import load_file
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        info = load_manifest(manifest)
        if not weights.is_file() or file_sha256(weights) != info.get("sha256"):
            raise ModelLoadError(
                f"Lecteur : {weights.name} absent ou différent de celui du manifeste (sha256) : relancez {RETRAIN}."
            )
        try:
            base_source = json.loads((base / "conversion.json").read_text())["sha256"]
        except (OSError, ValueError, KeyError):
            base_source = None
        if base_source != info.get("base", {}).get("source_sha256"):
            raise ModelLoadError(
                f"Lecteur : {weights.name} a été entraîné sur une autre version de multilingual-e5-small "
                f"que celle de {base} : relancez {RETRAIN}."
            )
        if threads:
            torch.set_num_threads(threads)
        transformers_logging.set_verbosity_error()  # "newly initialized qa_outputs": they are loaded just below
        transformers_logging.disable_progress_bar()  # no «Loading weights» bar in the chat's or the CLI's output
        self.tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
        model = AutoModelForQuestionAnswering.from_pretrained(str(base), local_files_only=True)
        trained = {name: tensor.float() for name, tensor in load_file(str(weights)).items()}
        expected = model.state_dict()
        unknown = [name for name in trained if name not in expected or expected[name].shape != trained[name].shape]
        if unknown or set(info.get("trained", [])) != set(trained):
            raise ModelLoadError(
                f"Lecteur : {weights.name} ne correspond pas à l'architecture attendue : relancez {RETRAIN}."
            )
        model.load_state_dict(trained, strict=False)
        model.eval()
        if int8:  # dynamic int8 quantization of the linear layers (eval/bench/reader_bench.py measures it)
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model
        self.calibration = Calibration(**info["calibration"])
        self.name = info.get("name", weights.stem)
        self._torch = torch
        self._lock = threading.Lock()
        log.info("reader %s (%d trained tensors) on %s", self.name, len(trained), base)

    def confidence(self, reading: Reading, coverage: float, missing_name: bool) -> float:
        """The probability that ``reading`` is right, knowing what the answer check knows."""
        return self.calibration.probability(reading.margin, coverage, missing_name)

    def encode(self, question: str, passages: Sequence[str]) -> Windows:
        return encode_windows(self.tokenizer, question, passages)

    def logits(self, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
        with self._lock, self._torch.inference_mode():
            out = self.model(
                input_ids=self._torch.from_numpy(windows.input_ids),
                attention_mask=self._torch.from_numpy(windows.attention_mask),
            )
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()

    def read(self, question: str, passages: Sequence[str]) -> Reading | None:
        """The reading of ``passages`` (ranked best first), or None when there is no passage text
        (:func:`choose` among :meth:`readings`)."""
        return choose(self.readings(question, passages))

    def sentence_readings(self, question: str, passages: Sequence[str]) -> list[Reading]:
        """Every sentence's best span, in every passage (ranked best first), with the sentence's
        mass: what :mod:`rag.answer.choice` chooses among. A sentence read in two windows keeps
        its better reading."""
        if not passages:
            return []
        windows = self.encode(question, passages)
        starts, ends = self.logits(windows)
        asked = content_words(question)
        best: dict[tuple[int, int], Reading] = {}
        for w, offsets in enumerate(windows.offsets):
            index = windows.passage[w]
            text = passages[index]
            null = float(starts[w][0] + ends[w][0])
            for sentence, where, mass, (first, last, score) in read_sentences(starts[w], ends[w], offsets, text, asked):
                start, end = offsets[first][0], offsets[last][1]
                while start < end and text[start].isspace():
                    start += 1
                current = best.get((index, sentence))
                if current is None or score - null > current.margin:
                    best[(index, sentence)] = Reading(
                        passage=index,
                        start=start,
                        end=end,
                        text=text[start:end],
                        score=score,
                        null_score=null,
                        confidence=self.calibration.probability(score - null),
                        sentence=where,
                        mass=mass - null,
                    )
        return [best[key] for key in sorted(best)]

    def readings(self, question: str, passages: Sequence[str]) -> dict[int, Reading]:
        """Each passage's reading, by the passage's index (none for a passage without text): the
        best span of its likeliest sentence (:func:`sentence_order`'s choice, over every window
        of the passage)."""
        best: dict[int, Reading] = {}
        for reading in self.sentence_readings(question, passages):
            current = best.get(reading.passage)
            if current is None or (reading.mass or 0.0) > (current.mass or 0.0):
                best[reading.passage] = reading
        return best


def read_sentences(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int] | None],
    text: str,
    question_words: set[str],
) -> list[tuple[int, tuple[int, int], float, tuple[int, int, float]]]:
    """For each sentence of one window: (its index, its range in ``text``, its mass, its best
    span as (first token, last token, score)); a sentence with no span that may answer is left out."""
    sentences = token_sentences(offsets, text)
    ranges = sentence_spans(text) or [(0, len(text))]
    found = []
    for sentence, mass in sentence_masses(start_logits, end_logits, sentences).items():
        inside = [offset if s == sentence else None for offset, s in zip(offsets, sentences, strict=True)]
        span = _top_span(start_logits, end_logits, inside, 20, text, question_words)
        if span is not None and sentence < len(ranges):
            found.append((sentence, ranges[sentence], mass, span))
    return found


def choose(readings: dict[int, Reading], rank_penalty: float = RANK_PENALTY) -> Reading | None:
    """The reading the answer is taken from, among each passage's best (by the passage's rank,
    0 the best): the highest margin less ``rank_penalty`` per rank. A later passage must read
    much better than the search's first to be chosen; with a penalty of 0, the highest margin
    wins, and with a large one, the search's order.

    >>> a, b = (Reading(i, 0, 1, "x", m, 0.0, 0.5) for i, m in ((0, 2.0), (1, 5.0)))
    >>> choose({0: a, 1: b}, 0.0).passage, choose({0: a, 1: b}, 2.0).passage, choose({0: a, 1: b}, 4.0).passage
    (1, 1, 0)
    >>> choose({}) is None
    True
    """
    if not readings:
        return None
    return max(readings.values(), key=lambda reading: choice_score(reading.margin, reading.passage, rank_penalty))


def choice_score(margin: float, rank: int, rank_penalty: float = RANK_PENALTY) -> float:
    """What :func:`choose` maximises: the margin less ``rank_penalty`` per rank of the search."""
    return margin - rank_penalty * rank
