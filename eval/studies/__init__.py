"""Studies that set a constant once, each on data that is never an eval set (PIAF, the first
half of the newsroom set, a set built for it), and the reader's training.

Each module's docstring names what it set, where that lives, and the figure it gave:
:mod:`eval.studies.similarity_floor`, :mod:`eval.studies.coverage_floor`,
:mod:`eval.studies.passage_choice`, :mod:`eval.studies.answer_types`,
:mod:`eval.studies.reader_calibration`, :mod:`eval.studies.refusal`,
:mod:`eval.studies.train_reader` (with :mod:`eval.studies.piaf_examples`),
:mod:`eval.studies.dedup_set` and :mod:`eval.studies.llama_bench`. Run again, they print the
figure; only ``--write`` (refusal) or training changes what the product ships.
"""
