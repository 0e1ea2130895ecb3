"""Milvus Lite's gRPC servicer behind a server that tolerates clients' keepalive pings, with array scoring.

`milvus-lite server` builds its gRPC server with default HTTP/2 ping policy, while pymilvus pings every
10 s even when idle: the server answers GOAWAY "too_many_pings" and an idle API or worker loses its
connection. This entry point serves the same servicer with a ping policy that accepts those pings, scores
searches with `copilot.stack.lite_kernels` and runs them with `copilot.stack.lite_search`.
"""

from __future__ import annotations

import argparse
import signal
import threading
from concurrent import futures

import grpc
from milvus_lite.adapter.grpc.servicer import MilvusServicer
from milvus_lite.db import MilvusLite
from pymilvus.grpc_gen import milvus_pb2_grpc

from copilot.stack import lite_kernels, lite_search

MAX_MESSAGE = 256 * 1024 * 1024
OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.max_ping_strikes", 0),
]


def serve(data_dir: str, host: str, port: int, workers: int, scoring: str) -> None:
    kernels = scoring == "array" and lite_kernels.install()
    if kernels:  # the same checked Milvus Lite version
        lite_search.install()
    db = MilvusLite(data_dir)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=OPTIONS)
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(MilvusServicer(db), server)
    server.add_insecure_port(f"{host}:{port}")
    server.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Milvus Lite serving {data_dir} on {host}:{port} (array scoring: {'on' if kernels else 'off'})",
          flush=True)
    stop.wait()
    server.stop(grace=5).wait()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=19530)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--scoring", choices=["array", "upstream"], default="array",
                        help="score searches with copilot.stack.lite_kernels, or with Milvus Lite's own code")
    args = parser.parse_args()
    serve(args.data_dir, args.host, args.port, args.workers, args.scoring)


if __name__ == "__main__":
    main()
