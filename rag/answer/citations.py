"""Citation markers in a streamed answer: keep the valid ones, add the missing ones.

The model is asked to end each sentence with ``[n]``, the number of a passage it was
shown. A small model does not always do so, and may cite a number it was never shown.
:class:`CitationStream` sits between the token stream and the reader:

- ``[n]`` markers pointing at a shown passage pass through (``[1, 3]`` becomes ``[1][3]``);
  markers pointing elsewhere are dropped;
- a sentence that ends without a marker gets the marker of the passage that shares most
  of its words, if one shares enough; a marker written after the full stop is moved
  before it: ``Munich.[1]`` becomes ``Munich [1].``

Text is released as soon as it cannot change: only an unfinished marker or a final
punctuation mark (which may still get a marker before it) is held back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_PARTIAL_MARKER = re.compile(r"\[[\d,;\s]*")
_TERMINATORS = ".!?…"
_CLOSERS = '»"”)’'
_WORD = re.compile(r"\w+")
# Words that say nothing about which passage a sentence comes from.
STOPWORDS = frozenset(
    """a ai au aux avec c ce ces cet cette d dans de des du elle en est et etait il ils
    je l la le les leur lui m mais me meme n ne ni nous on ou par pas plus pour qu que qui
    s sa se ses son sont sur t ta te tes ton tu un une vos votre vous y ete etre avait avoir
    fait comme aussi tres tout tous toute toutes selon dont cela ceci ici deja encore""".split()
)


def content_words(text: str) -> set[str]:
    """Lowercased, accent-folded words that carry meaning: ``"l'Économie"`` -> ``{"economie"}``."""
    text = text.lower().replace("’", "'")  # the typographic apostrophe would glue "l’arrivée" into one word
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return {w for w in _WORD.findall(folded) if w not in STOPWORDS and (len(w) > 2 or w.isdigit())}


def lexical_attributor(passages: Sequence[str], min_overlap: float = 0.5) -> Callable[[str], int | None]:
    """A function: sentence -> number (1-based) of the passage sharing most of its words.

    None when no passage holds at least ``min_overlap`` of the sentence's content words;
    ties go to the passage ranked first.
    """
    passage_words = [content_words(p) for p in passages]

    def attribute(sentence: str) -> int | None:
        words = content_words(sentence)
        if not words:
            return None
        best, best_share = None, 0.0
        for number, candidate in enumerate(passage_words, start=1):
            share = len(words & candidate) / len(words)
            if share > best_share:
                best, best_share = number, share
        return best if best_share >= min_overlap else None

    return attribute


class CitationStream:
    """Feed it token deltas; it returns the text to show, markers checked and added."""

    def __init__(self, passage_count: int, attribute: Callable[[str], int | None]):
        self.passage_count = passage_count
        self.attribute = attribute
        self.text = ""  # everything released so far
        self.cited: list[int] = []  # passage numbers, in order of first citation
        self._held = ""
        self._out: list[str] = []  # released by the current call
        self._sentence = ""  # words of the current sentence, without markers
        self._sentence_cited = False

    def feed(self, delta: str) -> str:
        self._held += delta
        return self._release(final=False)

    def finish(self) -> str:
        released = self._release(final=True)
        tail = self._end_sentence(before="")
        self.text += tail
        return released + tail

    # -- internals --------------------------------------------------------------

    def _release(self, *, final: bool) -> str:
        out = self._out = []
        text, i = self._held, 0
        while i < len(text):
            char = text[i]
            if char == "[":
                marker = _MARKER.match(text, i)
                if marker:
                    out.append(self._markers(marker.group(1)))
                    i = marker.end()
                    continue
                if not final and _PARTIAL_MARKER.fullmatch(text, i) and len(text) - i < 16:
                    break  # wait for the rest of the marker
            elif char in _TERMINATORS:
                j = i
                while j < len(text) and text[j] in _TERMINATORS + _CLOSERS:
                    j += 1
                if j == len(text) and not final:
                    break  # the sentence may end here: wait to see what follows
                after = text[j] if j < len(text) else ""
                if after == "[":
                    marker = _MARKER.match(text, j)
                    if marker:  # "Munich.[1]": the marker belongs before the full stop
                        out.append(self._markers(marker.group(1), lead=" "))
                        out.append(self._end_sentence(before=text[i:j]))
                        i = marker.end()
                        continue
                    if not final and _PARTIAL_MARKER.fullmatch(text, j):
                        break
                if after == "" or after.isspace():
                    out.append(self._end_sentence(before=text[i:j]))
                    i = j
                    continue
                out.append(self._plain(text[i:j]))  # "3.5", "M.D": not a sentence end
                i = j
                continue
            elif char == "\n" and self._sentence.strip():
                out.append(self._end_sentence(before=""))
            out.append(self._plain(char))
            i += 1
        self._held = text[i:]
        released = "".join(out)
        self.text += released
        return released

    def _after_space(self) -> bool:
        """Whether the text released so far ends with white space (say, before a dropped marker)."""
        last = "".join(self._out[-2:]) or self.text[-1:]
        return last[-1:].isspace()

    def _plain(self, text: str) -> str:
        self._sentence += text
        return text

    def _markers(self, numbers: str, lead: str = "") -> str:
        valid = []
        for raw in re.split(r"\s*[,;]\s*", numbers.strip()):
            number = int(raw)
            if 1 <= number <= self.passage_count and number not in valid:
                valid.append(number)
        for number in valid:
            self._cite(number)
        return (lead + "".join(f"[{n}]" for n in valid)) if valid else ""

    def _cite(self, number: int) -> None:
        self._sentence_cited = True
        if number not in self.cited:
            self.cited.append(number)

    def _end_sentence(self, *, before: str) -> str:
        """Close the current sentence, adding a marker if it has none; then ``before``."""
        sentence, self._sentence = self._sentence, ""
        cited, self._sentence_cited = self._sentence_cited, False
        marker = ""
        if sentence.strip() and not cited:
            number = self.attribute(sentence)
            if number is not None:
                self._cite(number)
                marker = f"{'' if self._after_space() else ' '}[{number}]"
                self._sentence_cited = False  # that marker closed this sentence, not the next
        return marker + before
