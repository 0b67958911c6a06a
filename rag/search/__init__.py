"""A question to the passages most likely to answer it.

:mod:`rag.search.retrieval` fuses dense (FAISS) and French keyword search
(:mod:`rag.search.keyword`, BM25); :mod:`rag.search.followup` makes a follow-up question
standalone first; :mod:`rag.search.temporal` restricts a question about a period to the
articles of that period; :mod:`rag.search.repeats` keeps one copy of an agency wire run by
several outlets; :mod:`rag.search.evidence` keeps, from each passage, the sentences that bear
on the question.
"""
