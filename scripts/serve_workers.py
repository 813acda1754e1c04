"""``aftersales serve --workers N``: N waitress processes on one listening socket.

One Python process runs one request at a time on one core however many threads it has (the
GIL), so with eight people at once a page of 10 ms CPU waits up to eight times that. The socket
is bound once here, then N children are forked; each builds its own app (its own Store, shard
cache and indexes: the store is safe across processes, every read checks the shard files and
every write takes the file lock) and serves the shared socket with waitress; the kernel hands
each new connection to one of them. The parent only waits: when it is asked to stop, or a
child ends, it stops the others.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
from typing import Callable


def serve_forked(make_app: Callable[[], object], host: str, port: int, threads: int, workers: int) -> None:
    from waitress import serve as waitress_serve

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker
            signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
            code = 0
            try:
                waitress_serve(make_app(), sockets=[sock], threads=threads, ident="aftersales")
            except BaseException:  # noqa: BLE001 - reported, then the parent stops the others
                import traceback
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()

    def stop(*_):
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    signal.signal(signal.SIGINT, lambda *_: (stop(), sys.exit(0)))
    try:
        _, status = os.wait()  # the first child to end ends the server
    finally:
        stop()
    for child in children:
        try:
            os.waitpid(child, 0)
        except ChildProcessError:
            pass
    sys.exit(os.waitstatus_to_exitcode(status) if status else 0)
