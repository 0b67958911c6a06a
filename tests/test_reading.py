"""The read paths (rag.answer.reading) inside the pipeline, with a scripted reader and generator."""

from __future__ import annotations

import pytest

from index.build import build_index
from rag.answer.checking import AnswerChecker
from rag.answer.gathering import EVIDENCE_HEADING, MOST
from rag.answer.generator_process import GenerationError
from rag.answer.prompting import REFUSAL
from rag.answer.reading import ReadingAnswerer
from rag.answer.writing import NOT_SUPPORTED, WRITER_FAILED, WRITER_INSTRUCTIONS
from rag.pipeline import Pipeline
from rag.search.retrieval import DenseRetriever
from rag.store.embedded import IndexStore
from tests.conftest import SEEDS
from tests.fakes import FakeGenerator, FakeReader

MUNICH = "Dans quelle ville OpenAI va-t-elle ouvrir un bureau et un datacenter ?"


@pytest.fixture
def store(settings, fake_embedder):
    build_index(settings, [SEEDS], fake_embedder, progress=False)
    return IndexStore.open(settings.index_dir, embed_model=fake_embedder.name)


def pipeline_with(
    store, embedder, reader, generator=None, min_confidence=0.5, yes_no="read", documents=None, phrase=False
):
    generator = generator or FakeGenerator(("Un brouillon du modèle", "."))
    checker = AnswerChecker()
    reading = ReadingAnswerer(
        reader, generator, checker, min_confidence=min_confidence, phrase=phrase, yes_no=yes_no, documents=documents
    )
    return Pipeline(DenseRetriever(store, embedder), generator, top_k=3, checker=checker, reading=reading)


def test_a_read_answer_is_the_span_then_the_sentence_that_holds_it_quoted(store, fake_embedder):
    pipeline = pipeline_with(store, fake_embedder, FakeReader("Munich", confidence=0.9))
    stream = pipeline.ask(MUNICH)
    pieces = list(stream)
    answer = stream.answer
    number = answer.citations[0]
    passage = answer.passages[number - 1]
    assert answer.path == "reader" and answer.short == "Munich" and answer.confidence == 0.9
    assert answer.text.startswith(f"Munich. Selon [{number}] : « ") and answer.text.endswith(" »")
    quoted = answer.text.split("« ", 1)[1].rstrip(" »")
    assert "Munich" in quoted and quoted in passage.text  # word for word from the cited passage
    ((marker, start, end),) = answer.spans
    assert marker == number and passage.text[start:end] == "Munich"
    assert pieces == [answer.text] and answer.first_token_s is not None and not answer.refused
    assert pipeline.generator.prompts == []  # no draft was written


def test_the_span_phrased_by_the_llm_reaches_a_chat_model_as_a_message(store, fake_embedder):
    # DEPECHE_PHRASE=llm: the phrasing request is text; a chat model (Qwen2.5) reads messages,
    # and an empty list failed its template, so every answer failed.
    for pieces, short in [
        (("Le bureau d'OpenAI ouvrira à Munich", "."), "Le bureau d'OpenAI ouvrira à Munich."),
        (("Le bureau ouvrira en Bavière", "."), "Munich"),  # the span's word lost: the span stays
    ]:
        generator = FakeGenerator(pieces)
        pipeline = pipeline_with(store, fake_embedder, FakeReader("Munich", confidence=0.9), generator, phrase=True)
        answer = pipeline.answer(MUNICH)
        ((prompt,),) = [generator.prompts]
        assert prompt.messages == [{"role": "user", "content": prompt.text}] and MUNICH in prompt.text
        assert answer.short == short and not answer.refused


def test_the_reader_not_confident_enough_refuses_with_the_closest_passages(store, fake_embedder):
    pipeline = pipeline_with(store, fake_embedder, FakeReader("Munich", confidence=0.2), min_confidence=0.5)
    answer = pipeline.answer(MUNICH)
    assert answer.refused and answer.text == REFUSAL and answer.path == "reader" and answer.confidence == 0.2
    assert answer.passages  # listed as the closest passages


def test_a_question_naming_what_no_passage_mentions_is_refused_even_with_a_confident_reading(store, fake_embedder):
    reader = FakeReader("Munich", confidence=0.9)
    answer = pipeline_with(store, fake_embedder, reader).answer("Quel loyer OpenAI paie-t-elle à Madrid ?")
    assert answer.refused and answer.confidence is None  # refused before any reading
    assert reader.questions == []


def test_a_misspelt_name_is_no_missing_name():
    from rag.search.evidence import Evidence
    from rag.store.records import Passage

    text = "Sam Altman, PDG d'OpenAI, ouvrira un bureau dans la ville de Munich."
    passages = [Passage(1, "munich", "OpenAI à Munich", "2025-03-27", "x", 0, len(text), text)]
    reading = ReadingAnswerer(FakeReader("Munich"), None, AnswerChecker(), min_confidence=0.5)
    for question, refused in [
        ("Dans quelle ville Sam Altmann ouvrira-t-il un bureau ?", False),  # «Altman», mistyped
        ("Dans quelle ville Sam Altman ouvrira-t-il un bureau, selon Dario Amodei ?", True),
    ]:
        answer = reading.answer(question, passages, [Evidence(1, passages[0], [text])])
        assert (answer.composition is None) is refused


def test_how_many_needs_a_number_in_the_span(store, fake_embedder):
    answer = pipeline_with(store, fake_embedder, FakeReader("Munich")).answer(
        "Combien de bureaux OpenAI ouvre-t-elle en Allemagne ?"
    )
    assert answer.refused


@pytest.mark.parametrize(
    "question", ["Quel est le loyer du bureau parisien d'OpenAI ?", "À quelle adresse se trouve le bureau parisien ?"]
)
def test_a_rent_needs_a_number_and_an_address_a_street(store, fake_embedder, question):
    """The reader's confident «plus tard cette année» is no rent; «Paris» is no address."""
    for span in ("plus tard cette année", "Paris"):
        assert pipeline_with(store, fake_embedder, FakeReader(span)).answer(question).refused


def test_a_yes_no_question_is_answered_from_the_sentence_the_reader_finds(store, fake_embedder):
    generator = FakeGenerator(choice="non")
    pipeline = pipeline_with(store, fake_embedder, FakeReader("Munich"), generator)
    answer = pipeline.answer("OpenAI va-t-elle ouvrir un bureau à Munich ?")
    assert answer.path == "yesno" and answer.text.startswith("Oui. Selon [") and "Munich" in answer.text
    assert answer.short == answer.text  # «Oui» alone does not answer: the short answer keeps its sentence
    assert generator.choices == [] and generator.prompts == []  # no model was asked


@pytest.mark.parametrize(
    ("question", "sentence", "word"),
    [
        (
            "Votre assurance auto peut-elle vous couvrir lors d'un voyage ?",
            "Oui, votre assurance auto peut vous couvrir lors d'un voyage à l'étranger.",
            "Oui",
        ),
        (
            "La formation en dehors du temps de travail est-elle rémunérée ?",
            "Non, la formation en dehors du temps de travail n'est pas rémunérée.",
            "Non",
        ),
        ("Peut-on avoir plusieurs passeports ?", "Vous ne pouvez pas avoir plusieurs passeports à votre nom.", "Non"),
        ("Un bureau est-il prévu à Munich cette année ?", "Aucun bureau n'est prévu à Munich cette année.", "Non"),
        ("OpenAI a-t-il accepté des négociations ?", "OpenAI a refusé des négociations avec les syndicats.", "Non"),
        ("OpenAI a-t-il refusé des négociations ?", "OpenAI a refusé des négociations avec les syndicats.", "Oui"),
        (
            "Les anciens contrats aidés restent-ils valables ?",
            "Les anciens contrats aidés signés restent valables jusqu'à leur terme.",
            "Oui",
        ),
        ("Les contrats restent-ils valables ?", "Nonobstant la loi, les contrats restent valables.", "Oui"),
    ],
)
def test_oui_or_non_is_what_the_sentence_says_or_whether_it_denies(question, sentence, word):
    from rag.search.evidence import Evidence
    from rag.store.records import Passage

    passages = [Passage(1, "d", "Titre", "2025-03-27", "x", 0, len(sentence), sentence)]
    span = sentence.split()[3]
    reading = ReadingAnswerer(FakeReader(span), None, AnswerChecker(), min_confidence=0.5)
    answer = reading.answer(question, passages, [Evidence(1, passages[0], [sentence])])
    assert answer.path == "yesno" and answer.composition.text.startswith(f"{word}. Selon [1]")


def test_with_the_llm_as_judge_a_yes_no_question_is_answered_by_the_model_choosing(store, fake_embedder):
    generator = FakeGenerator(choice="non")
    pipeline = pipeline_with(store, fake_embedder, FakeReader("Munich"), generator, yes_no="llm")
    answer = pipeline.answer("OpenAI va-t-elle ouvrir un bureau à Munich ?")
    assert answer.path == "yesno" and answer.text.startswith("Non. Selon [") and "Munich" in answer.text
    assert answer.short == answer.text  # «Non» alone does not answer: the short answer keeps its sentence
    assert "Munich" in generator.choices[0] and "«  »" in generator.choices[1] and generator.prompts == []


def test_a_yes_no_question_is_refused_on_the_checks_signals_not_the_span_margin(store, fake_embedder):
    """A yes/no question has no span: a low reader margin does not refuse it; a name no passage
    mentions does."""
    pipeline = pipeline_with(store, fake_embedder, FakeReader("Munich", confidence=0.05))
    answer = pipeline.answer("OpenAI va-t-elle ouvrir un bureau à Munich ?")
    assert answer.path == "yesno" and answer.text.startswith("Oui. Selon [") and not answer.refused
    answer = pipeline.answer("OpenAI va-t-elle ouvrir un bureau à Madrid ?")
    assert answer.path == "yesno" and answer.refused and answer.text == REFUSAL


def test_a_model_leaning_to_yes_whatever_it_reads_is_corrected_by_its_prior(store, fake_embedder):
    """0.6 for «oui» after the sentence, but 0.9 with no sentence at all: the sentence moved it to «non»."""
    generator = FakeGenerator(choice={"oui": 0.6, "non": 0.4}, prior={"oui": 0.9, "non": 0.1})
    pipeline = pipeline_with(store, fake_embedder, FakeReader("Munich"), generator, yes_no="llm")
    assert pipeline.answer("OpenAI va-t-elle ouvrir un bureau à Munich ?").text.startswith("Non. ")


def test_a_publication_date_comes_from_the_metadata(store, fake_embedder):
    reader = FakeReader("Munich")
    answer = pipeline_with(store, fake_embedder, reader).answer("De quand date l'article sur le bureau de Munich ?")
    assert answer.path == "metadata" and answer.short == "27 mars 2025"
    assert answer.text.startswith("27 mars 2025. L'article « ") and "est daté du 27 mars 2025." in answer.text
    assert reader.questions == []


def test_the_rubric_and_the_author_come_from_the_articles_metadata(store, fake_embedder):
    from dataclasses import replace

    def documents(doc_id):  # the Munich article as indexed (rubric «News»), with an author given by its feed
        document = store.document(doc_id)
        return replace(document, author="Olivier Verot") if "munich" in doc_id else document

    reader = FakeReader("Munich")
    pipeline = pipeline_with(store, fake_embedder, reader, documents=documents)
    rubric = pipeline.answer("Dans quelle rubrique l'article sur le bureau de Munich est-il paru ?")
    assert rubric.path == "metadata" and rubric.short == "News" and rubric.citations == [1]
    assert rubric.text.startswith("News. L'article « ") and "» [1] est paru dans la rubrique « News »." in rubric.text
    assert "munich" in rubric.passages[0].doc_id
    author = pipeline.answer("Qui a écrit l'article sur le bureau de Munich ?")
    assert author.path == "metadata" and author.short == "Olivier Verot" and "est signé Olivier Verot." in author.text
    assert reader.questions == []


def test_an_author_the_metadata_lacks_is_read_in_the_articles_author_box(store, fake_embedder):
    reader = FakeReader(("Olivier Verot", "Hubert Aiwanger"), confidence=0.9)  # the minister is in the passages
    pipeline = pipeline_with(store, fake_embedder, reader, documents=store.document)
    answer = pipeline.answer("Qui a écrit l'article sur le bureau de Munich ?")
    assert answer.path == "metadata" and answer.short == "Olivier Verot" and not answer.refused
    (number,) = answer.citations
    box = answer.passages[number - 1]
    assert number == len(answer.passages) and box.doc_id.endswith("munich")  # cited after the retrieved ones
    assert box.text.startswith("Passionné par l'innovation") and box.text in store.document(box.doc_id).body
    assert answer.text.startswith(f"Olivier Verot. Selon [{number}] : « Passionné par")


def test_an_author_found_nowhere_is_refused_not_a_name_read_elsewhere(store, fake_embedder):
    reader = FakeReader("Hubert Aiwanger", confidence=0.9)  # in the passages, not in the author box
    pipeline = pipeline_with(store, fake_embedder, reader, documents=store.document)
    answer = pipeline.answer("Qui a écrit l'article sur le bureau de Munich ?")
    assert answer.refused and answer.path == "metadata"


def test_without_the_store_a_question_on_the_rubric_is_read(store, fake_embedder):
    reader = FakeReader("News")
    pipeline = pipeline_with(store, fake_embedder, reader)
    answer = pipeline.answer("Dans quelle rubrique l'article sur Munich est-il paru ?")
    assert answer.path == "reader" and reader.questions


def test_an_open_question_is_answered_by_the_sentences_gathered_across_articles_quoted(store, fake_embedder):
    reader = FakeReader("Munich", every_sentence=True)
    generator = FakeGenerator(("Texte libre", "."))
    answer = pipeline_with(store, fake_embedder, reader, generator).answer("Résume l'article sur Munich.")
    assert answer.path == "evidence" and not answer.refused and generator.prompts == []
    lines = answer.text.splitlines()
    assert lines[0] == EVIDENCE_HEADING and 2 <= len(lines) - 1 <= MOST
    assert len(answer.passages) >= 2 and answer.citations  # read deeper than a fact: several passages
    for line, (number, start, end) in zip(lines[1:], answer.spans, strict=True):
        quoted = line.split("« ", 1)[1].rsplit(" » ", 1)[0]
        assert line.endswith(f"[{number}]") and answer.passages[number - 1].text[start:end] == quoted  # word for word
    assert {number for number, _, _ in answer.spans} == set(answer.citations)


def written(store, fake_embedder, draft, question="Résume l'article sur Munich."):
    generator = FakeGenerator(draft) if isinstance(draft, tuple) else draft
    pipeline = pipeline_with(store, fake_embedder, FakeReader("Munich", every_sentence=True), generator)
    pipeline.open_answer = "write"
    return pipeline.answer(question), generator


def test_an_open_answer_written_by_the_llm_keeps_only_what_the_evidence_supports(store, fake_embedder):
    answer, generator = written(
        store, fake_embedder, ("OpenAI ouvrira un bureau à Munich [1]. ", "Le bureau coûte 9 milliards [1].")
    )
    assert answer.path == "open" and len(generator.prompts) == 1
    prompt = generator.prompts[0].messages
    assert (
        prompt[0]["content"] == WRITER_INSTRUCTIONS
        and "Question : Résume l'article sur Munich." in prompt[1]["content"]
    )
    assert (
        answer.text == "OpenAI ouvrira un bureau à Munich [1]."
        and answer.dropped == []
        or "9 milliards" not in answer.text
    )
    assert answer.spans and answer.citations == [1]  # the evidence stays marked for the sources panel


def test_an_open_answer_that_fails_the_check_is_the_evidence_with_one_line_saying_so(store, fake_embedder):
    answer, _ = written(store, fake_embedder, ("Le bureau de Lisbonne a coûté 9 milliards [1].",))
    assert answer.path == "evidence" and answer.text.splitlines()[:2] == [NOT_SUPPORTED, EVIDENCE_HEADING]


class TimedOut(FakeGenerator):
    def stream(self, prompt):
        self.prompts.append(prompt)
        yield "OpenAI ouvrira"
        raise GenerationError("Le modèle n'a pas répondu à temps.")


def test_a_writer_that_times_out_falls_back_to_the_evidence(store, fake_embedder):
    answer, _ = written(store, fake_embedder, TimedOut())
    assert answer.path == "evidence" and answer.text.splitlines()[:2] == [WRITER_FAILED, EVIDENCE_HEADING]


def test_an_open_question_no_passage_can_answer_is_refused(store, fake_embedder):
    answer, generator = written(store, fake_embedder, ("Texte", "."), "Pourquoi Anthropic s'installe-t-il à Lisbonne ?")
    assert answer.refused and answer.text == REFUSAL and generator.prompts == []


ACROSS = "Comment OpenAI est-elle présentée dans chacun des deux articles ?"


def test_a_question_across_articles_joins_one_span_per_article_each_quoted(store, fake_embedder):
    reader = FakeReader(("OpenAI", "IA"), confidence=0.9)
    pipeline = pipeline_with(store, fake_embedder, reader)
    answer = pipeline.answer(ACROSS)
    assert answer.path == "across" and not answer.refused
    assert len(answer.passages) > 3  # retrieved deeper, so that both articles are among them
    cited = [answer.passages[n - 1] for n in answer.citations]
    assert len(cited) == 2 and cited[0].doc_id != cited[1].doc_id  # one part per article
    spans = answer.short.split(" ; ")
    assert len(spans) == 2 and set(spans) <= {"OpenAI", "IA"}
    for n, passage, span in zip(answer.citations, cited, spans, strict=True):
        assert f"{span} [{n}]" in answer.text and f"Selon [{n}] : « " in answer.text
        quoted = answer.text.split(f"Selon [{n}] : « ", 1)[1].split(" »", 1)[0]
        assert quoted in passage.text and span in quoted  # word for word from that article
    assert [(n, passage.text[s:e]) for (n, s, e), passage in zip(answer.spans, cited, strict=True)] == list(
        zip(answer.citations, spans, strict=True)
    )  # both spans are highlighted in the sources panel
    assert all("deux articles" not in q for q in reader.questions)  # each article is asked its part


SHARED = "Outre Paris, quelle ville des bureaux d'OpenAI est citée dans les deux articles ?"


def test_what_both_articles_share_is_the_name_both_quoted_sentences_hold(store, fake_embedder):
    # Paris article: «… telles que Bruxelles, New York, et Singapour.»; Munich article: «… à Paris,
    # Bruxelles et Dublin.»: each article's span is elsewhere in the sentence, the answer is
    # what both sentences name and the question does not (not «Paris»).
    reader = FakeReader(("New York", "Dublin"), confidence=0.9)
    answer = pipeline_with(store, fake_embedder, reader).answer(SHARED)
    assert answer.path == "across" and not answer.refused
    assert answer.short == "Bruxelles"
    cited = [answer.passages[n - 1] for n in answer.citations]
    assert len(cited) == 2 and {p.doc_id for p in cited} == {p.doc_id for p in answer.passages}
    assert answer.text.startswith(f"Bruxelles [{answer.citations[0]}] [{answer.citations[1]}]. Selon ")
    highlighted = {(n, answer.passages[n - 1].text[s:e]) for n, s, e in answer.spans}
    assert highlighted == {(n, "Bruxelles") for n in answer.citations}  # the name, in each passage


def test_articles_sharing_no_name_get_each_articles_part(store, fake_embedder):
    # «… Bruxelles, New York, et Singapour.» and «… Mistral AI et … Deepseek.» share no name
    reader = FakeReader(("Singapour", "Deepseek"), confidence=0.9)
    answer = pipeline_with(store, fake_embedder, reader).answer(SHARED)
    assert answer.path == "across" and not answer.refused
    assert sorted(answer.short.split(" ; ")) == ["Deepseek", "Singapour"]  # what each says, as for any question across


def test_a_question_across_articles_with_no_confident_part_is_refused(store, fake_embedder):
    pipeline = pipeline_with(store, fake_embedder, FakeReader("OpenAI", confidence=0.2))
    answer = pipeline.answer(ACROSS)
    assert answer.refused and answer.path == "across" and answer.text == REFUSAL and answer.confidence == 0.2


def test_a_follow_up_is_read_as_asked_while_search_sees_its_context(store, fake_embedder):
    reader = FakeReader("Munich", confidence=0.9)
    answer = pipeline_with(store, fake_embedder, reader).answer(
        "Qui l'a annoncé ?", history=["Quand OpenAI ouvrira-t-il un bureau à Munich ?"]
    )
    assert answer.search_question.startswith("Qui l'a annoncé ? (à propos de : Quand OpenAI")
    assert reader.questions == ["Qui l'a annoncé ?"]  # the reader was trained on single questions


def test_the_author_box_is_the_last_paragraph_cut_at_a_sentence_to_its_size():
    from rag.answer.compose import closing_passage
    from rag.sources.documents import Document

    body = "Premier paragraphe.\n\nUne phrase longue du dernier. Une autre phrase. Par Anne Martin, journaliste.\n"
    document = Document("d", "Titre", "2025-01-02", "d.txt", body, "x")
    box = closing_passage(document, 40)
    assert box.text == "Par Anne Martin, journaliste."  # the last sentences that fit in 40 characters
    assert body[box.start : box.end] == box.text and box.doc_id == "d" and box.title == "Titre"
    assert closing_passage(document, 800).text.startswith("Une phrase longue")
    assert closing_passage(Document("e", "Vide", None, "e.txt", "  \n", "y"), 800) is None


def test_an_author_box_among_the_retrieved_passages_is_cited_there_not_twice(store, fake_embedder):
    from rag.answer.compose import closing_passage
    from rag.search.evidence import Evidence

    reader = FakeReader("Olivier Verot", confidence=0.9)
    reading = ReadingAnswerer(reader, None, AnswerChecker(), min_confidence=0.5, documents=store.document)
    munich = next(d for d in store.documents() if "munich" in d.doc_id).doc_id
    box = closing_passage(store.document(munich), 800)
    wider = replace_text(box, "Un paragraphe avant.\n\n")
    read = reading.answer("Qui a écrit l'article sur Munich ?", [wider], [Evidence(1, wider, [wider.text])])
    assert read.extra == () and read.composition.citations == [1] and read.composition.short == "Olivier Verot"
    ((marker, start, end),) = read.composition.spans
    assert marker == 1 and wider.text[start:end] == "Olivier Verot"


def replace_text(passage, before: str):
    """The passage widened to start ``len(before)`` characters earlier (its text prefixed)."""
    from dataclasses import replace

    return replace(passage, chunk_id=7, start=passage.start - len(before), text=before + passage.text)
