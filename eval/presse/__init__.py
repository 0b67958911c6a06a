"""The newsroom evaluation: a gold set of questions over a real press archive.

- :mod:`eval.presse.archive`: the archive (``../shared/data/presse/articles.jsonl``) read as
  documents, and the fixed subset an eval indexes;
- :mod:`eval.presse.gold`: the gold set (``eval/gold/presse.jsonl``), checked line by line
  against its evidence and its articles, and its two halves.
"""
