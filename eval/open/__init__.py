"""Open questions (summaries, why, how, what happened, what the articles say, definitions,
lists): a gold set of key points written by reading the articles (:mod:`eval.open.gold`), the
rule that says whether an answer states a key point (:mod:`eval.open.points`), and the command
that scores each way of answering side by side (``python -m eval open``)."""
