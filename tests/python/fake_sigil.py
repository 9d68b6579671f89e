"""A tiny in-process stand-in for the Sigil daemon's HTTP API, for tests.

Serves POST /rpc (scripted per method) and REST paths (scripted per
"METHOD /path"), on a loopback TCP port or a Unix socket, and records every
request (method, path, headers, JSON body).
"""

from __future__ import annotations

import json
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Tuple, Union

Responder = Union[Tuple[int, Any], Callable[[Any], Tuple[int, Any]]]


class FakeSigil:
    def __init__(self, unix_path: str = ""):
        self.rpc: Dict[str, Any] = {}      # method -> ("result", value) | ("error", {...}) | callable(params)
        self.rest: Dict[str, Responder] = {}
        self.requests: List[Dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def address_string(self) -> str:
                return "test"

            def _reply(self, status: int, body: Any) -> None:
                raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                fake.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                      "body": body})
                if self.command == "POST" and self.path == "/rpc":
                    method = body["method"]
                    script = fake.rpc.get(method)
                    if script is None:
                        return self._reply(200, {"jsonrpc": "2.0", "id": body["id"],
                                                 "error": {"code": -32601, "message": f"no method {method}"}})
                    if callable(script):
                        script = script(body["params"])
                    kind, value = script
                    if kind == "http":
                        return self._reply(value[0], value[1])
                    return self._reply(200, {"jsonrpc": "2.0", "id": body["id"], kind: value})
                responder = fake.rest.get(f"{self.command} {self.path}")
                if responder is None:
                    return self._reply(404, {"error": {"code": "not_found", "message": "no such path"}})
                status, out = responder(body) if callable(responder) else responder
                self._reply(status, out)

            do_GET = do_POST = do_DELETE = _handle

        if unix_path:
            class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
                daemon_threads = True

            self.server = UnixServer(unix_path, Handler)
            self.url = "unix:" + unix_path
        else:
            self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            self.server.daemon_threads = True
            self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> "FakeSigil":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # scripting helpers
    def result(self, method: str, value: Any) -> None:
        self.rpc[method] = ("result", value)

    def error(self, method: str, code: int, message: str, data: Any = None) -> None:
        err: Dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        self.rpc[method] = ("error", err)

    def rpc_calls(self, method: str) -> List[Any]:
        return [r["body"]["params"] for r in self.requests if r["path"] == "/rpc" and r["body"]["method"] == method]
