"""The answer check's similarity floor, calibrated on PIAF (eval.studies.similarity_floor)."""

from __future__ import annotations

import numpy as np

from eval.studies.similarity_floor import Pair, calibrate, piaf_pairs
from tests.fakes import FakeEmbedder


def test_piaf_pairs_are_drawn_the_same_way_every_time_half_of_them_supported():
    pairs = piaf_pairs(30)
    assert pairs == piaf_pairs(30)
    assert len(pairs) == 60 and sum(p.supported for p in pairs) == 30
    for supported, off_topic in zip(pairs[::2], pairs[1::2], strict=True):
        assert supported.supported and not off_topic.supported
        assert supported.claim == off_topic.claim and supported.evidence != off_topic.evidence
        assert supported.claim.split(" : ")[-1].rstrip(".") in " ".join(supported.evidence)


class Scaled:
    """An embedder whose cosines are another's, squeezed: same order, another scale."""

    def __init__(self, inner: FakeEmbedder) -> None:
        self.inner, self.name, self.dimension = inner, "scaled", inner.dimension + 1

    def embed_passages(self, texts):
        vectors = self.inner.embed_passages(texts) * 0.6
        return np.hstack([vectors, np.full((len(texts), 1), 0.8)])  # every pair gains a shared component


def test_the_floor_rejects_no_more_supported_pairs_than_the_reference_does():
    pairs = [
        Pair("Munich accueille OpenAI : Munich.", ("OpenAI ouvre un bureau à Munich.",), True),
        Pair("Paris accueille OpenAI : Paris.", ("OpenAI ouvre un bureau à Paris en 2024.",), True),
        Pair("Le pacte signé : le pacte IA.", ("OpenAI signe le pacte européen sur l'IA.",), True),
        Pair("La capitale : Berlin.", ("Berlin est la capitale.", "Elle compte 3,7 millions d'habitants."), True),
        Pair("Munich accueille OpenAI : Munich.", ("Munich accueille le Tour de France.",), False),
        Pair("Paris accueille OpenAI : Paris.", ("La récolte de blé a baissé.",), False),
    ]
    from eval.studies.similarity_floor import similarities

    reference = FakeEmbedder()
    theirs = similarities(reference, pairs)
    floor = float(np.sort(theirs[:4])[1]) - 1e-6  # the reference rejects one supported pair of four
    result = calibrate(Scaled(FakeEmbedder()), reference, pairs, reference_floor=floor)
    assert result.reference_supported_rejected == 0.25
    assert result.supported_rejected == 0.25  # the same share, on the other model's scale
    assert 0 < result.floor < 1 and result.pairs == 6
    none_rejected = calibrate(Scaled(FakeEmbedder()), reference, pairs, reference_floor=0.0)
    ours = similarities(Scaled(FakeEmbedder()), pairs)
    assert none_rejected.supported_rejected == 0.0 and none_rejected.floor == round(float(ours[:4].min()), 3)
