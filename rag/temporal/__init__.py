"""The dates a question is about, and the search within them.

- :mod:`rag.temporal.scope`: :class:`DateScope`, a range of publication dates and an ordering;
- :mod:`rag.temporal.phrases`: the French date phrases of a question, found by rules;
- :mod:`rag.temporal.question`: a question's scope and the question left to search
  (:func:`parse_scope`), in a conversation (:func:`scoped_search`);
- :mod:`rag.temporal.retrieval`: any retriever restricted to a scope and ordered by it.
"""

from rag.temporal.question import ScopedQuestion, parse_scope, scoped_search
from rag.temporal.scope import ORDERS, DateScope, date_span

__all__ = ["ORDERS", "DateScope", "ScopedQuestion", "date_span", "parse_scope", "scoped_search"]
