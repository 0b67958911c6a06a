"""Speed, memory and load benchmarks: each prints its figures and, with ``--json``, writes them.

Ingestion (:mod:`eval.bench.ingest`, :mod:`eval.bench.ingest_memory`), embedders
(:mod:`eval.bench.embed_bench`), the reader (:mod:`eval.bench.reader_bench`), a cold start
(:mod:`eval.bench.cold_start`), the API's overhead (:mod:`eval.bench.api_bench`), users at once
(:mod:`eval.bench.concurrency`), a long run (:mod:`eval.bench.soak`) and a growing archive
(:mod:`eval.bench.scale`). All run as ``python -m eval <command>``.
"""
