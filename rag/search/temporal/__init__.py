"""The dates a question is about, and the search within them.

- :mod:`rag.search.temporal.scope`: :class:`DateScope`, a range of publication dates and an ordering;
- :mod:`rag.search.temporal.phrases`: the French date phrases of a question, found by rules;
- :mod:`rag.search.temporal.question`: a question's scope and the question left to search
  (:func:`parse_scope`), in a conversation (:func:`scoped_search`);
- :mod:`rag.search.temporal.retrieval`: any retriever restricted to a scope and ordered by it.
"""

from rag.search.temporal.question import ScopedQuestion, parse_scope, scoped_search
from rag.search.temporal.scope import ORDERS, DateScope, date_span

__all__ = ["ORDERS", "DateScope", "ScopedQuestion", "date_span", "parse_scope", "scoped_search"]
