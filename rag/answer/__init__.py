"""The answer stage: from the question and its passages to a checked, cited answer.

- :mod:`rag.answer.routing`: which path answers a question (reader, yes/no, metadata, LLM);
- :mod:`rag.answer.reader`: the extractive reader trained here (a span, its passage, a confidence);
- :mod:`rag.answer.reading`: the read paths, with the refusal decision;
- :mod:`rag.answer.compose`: the answer composed from a reading (short answer, then the quotation);
- :mod:`rag.answer.prompting`, :mod:`rag.answer.generation`: the LLM path's prompt and llama.cpp;
- :mod:`rag.answer.citations`: markers checked as the LLM's draft streams;
- :mod:`rag.answer.checking`: each drafted sentence checked against the passage it cites.
"""
