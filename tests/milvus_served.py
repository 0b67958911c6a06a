"""Milvus Lite's gRPC server as ``python -m milvus_lite server`` runs it, but taking the
keepalive pings a Milvus server takes: ``python tests/milvus_served.py DATA_DIR HOST PORT``.

pymilvus pings every 10 s, calls or not (``grpc.keepalive_permit_without_calls``). A Milvus
server permits it (its gRPC enforcement policy: pings 5 s apart, without calls); Milvus Lite's
server keeps gRPC's defaults (5 min apart), so in a long test session it answered a client
«GOAWAY too_many_pings» and the next connection to it failed ("Fail connecting to server"),
in a test that had nothing to do with it.
"""

from __future__ import annotations

import sys

import grpc

KEEPALIVE = [
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 5000),
    ("grpc.http2.max_ping_strikes", 0),  # 0: never a GOAWAY for pings
]


def main(data_dir: str, host: str, port: str) -> None:
    plain = grpc.server

    def server(executor, options=(), **kwargs):
        return plain(executor, options=[*options, *KEEPALIVE], **kwargs)

    grpc.server = server  # this process only serves Milvus Lite
    from milvus_lite.adapter.grpc.server import run_server

    run_server(data_dir, host=host, port=int(port))


if __name__ == "__main__":
    main(*sys.argv[1:])
