"""The product's evaluation: ``python -m eval`` asks gold questions through the full pipeline
and scores what comes back (:mod:`eval.run`, :mod:`eval.gold`, reports in :mod:`eval.report`,
the gate against ``eval/floors.json``), with the newsroom set (:mod:`eval.presse`), the open
questions (:mod:`eval.open`), date-scoped questions (:mod:`eval.dated`), duplicate detection
(:mod:`eval.dedup`) and the retrieval benchmark (:mod:`eval.retrieval`).

Beside it: :mod:`eval.bench`, speed and load benchmarks; :mod:`eval.studies`, the studies
that set a constant once, and the reader's training. Every command is listed in
:mod:`eval.__main__`.
"""
