"""A TCP proxy on loopback that a test can take down and bring back, or slow down: a database or an
S3 endpoint that goes away, or one far away."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time

from sqlalchemy.engine import make_url

from photon_archive_workshop.emulator import LOOPBACK, free_port


class TcpProxy:
    """Forwards every connection made to ``port`` to ``target``, until ``stop``.

    Stopped, it listens no more (a new connection is refused) and every connection it carried is
    cut, as when a database server goes down; ``start`` brings it back on the same port.
    ``latency_s`` holds every byte that long in each direction, as a distant server would: a request
    and its response each arrive that much later, whatever their size.
    """

    def __init__(self, target: tuple[str, int], latency_s: float = 0.0) -> None:
        self.target = target
        self.latency_s = latency_s
        self.port = free_port()
        self.connections = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._acceptor: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._listener is not None

    @property
    def endpoint_url(self) -> str:
        """The proxy as an HTTP endpoint, for ``AWS_ENDPOINT_URL``."""
        return f"http://{LOOPBACK}:{self.port}"

    def url_for(self, database_url: str) -> str:
        """``database_url`` with its host and port replaced by the proxy's."""
        url = make_url(database_url).set(host=LOOPBACK, port=self.port)
        return url.render_as_string(hide_password=False)

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self.port))
        listener.listen(128)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone may not.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _cut(sock)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _cut(client)
                continue
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    _cut(client)
                    _cut(upstream)
                    return
                self._sockets.update((client, upstream))
                self.connections += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        delayed = _DelayedSender(sink, self.latency_s) if self.latency_s > 0 else None
        try:
            while data := source.recv(65536):
                if delayed is None:
                    sink.sendall(data)
                else:
                    delayed.send(data)
        except OSError:
            pass
        finally:
            if delayed is not None:
                delayed.flush()
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _cut(source)
            _cut(sink)


class _DelayedSender:
    """Sends what it is given to ``sink`` ``latency_s`` after it was given, in order, on its own thread,
    so that the pump goes on reading meanwhile (a latency, not a bandwidth limit)."""

    def __init__(self, sink: socket.socket, latency_s: float) -> None:
        self.sink = sink
        self.latency_s = latency_s
        self._outbox: queue.Queue[tuple[float, bytes] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> None:
        self._outbox.put((time.monotonic() + self.latency_s, data))

    def flush(self) -> None:
        """Wait until everything given so far is sent (or the sink is gone)."""
        self._outbox.put(None)
        self._thread.join(timeout=self.latency_s + 10)

    def _send(self) -> None:
        while (item := self._outbox.get()) is not None:
            due, data = item
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                self.sink.sendall(data)
            except OSError:
                return  # the connection was cut: what is left goes nowhere


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
