"""A webhook receiver on loopback for the notification tests: records every POST registryd sends."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from registry import free_port


class Receiver:
    """A webhook endpoint: records every POST (headers and envelope) and answers 200.
    stop() closes its socket (connections are refused, as for a receiver that is down);
    start() listens on the same port again."""

    def __init__(self):
        self.port = free_port()
        self.posts: list[tuple[dict, dict]] = []
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.posts.append((dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(10)
            self.server = None

    def events(self) -> list[dict]:
        with self.lock:
            return [event for _, envelope in self.posts for event in envelope["events"]]

    def wait_for(self, predicate, timeout: float = 30.0) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            events = self.events()
            if predicate(events):
                return events
            time.sleep(0.1)
        raise AssertionError(f"events not as expected after {timeout}s: {json.dumps(self.events(), indent=1)[:4000]}")
