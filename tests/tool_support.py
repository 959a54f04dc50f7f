"""A local HTTP server (127.0.0.1, a free port) that tool tests and the tools benchmark call.

Routes:
  /weather/<city>          {"city", "temperature_c", "conditions"} for a few known cities, else 404
  /stock/<symbol>          {"symbol", "price"}
  /capital/<country>       {"country", "capital"}
  /directory/<name>        {"name", "extension", "office"} (made-up people: no model knows them)
  /echo?...                the request: method, path, query, headers, JSON body
  /big                     a body larger than any test cap (declared length)
  /endless                 a chunked body that never ends (no declared length)
  /slow                    answers after 2 s
  /redirect?to=<url>       302 to the URL
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from autoglm.v1 import tool_pb2

# The parameters of a tool that takes a city, as RegisterTool takes them (a JSON string).
CITY = json.dumps({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def http_tool(
    url: str, name: str = "weather", schema: str = CITY, description: str = "Weather.", **http: object
) -> tool_pb2.Tool:
    """An HTTP tool for RegisterTool: GET `url` (a template with {argument} fields) unless `http` says."""
    spec = tool_pb2.HttpToolSpec(url_template=url, **{"method": tool_pb2.HTTP_METHOD_GET, **http})  # type: ignore[arg-type]
    return tool_pb2.Tool(
        name=name,
        description=description,
        parameters_json_schema=schema,
        kind=tool_pb2.TOOL_KIND_HTTP,
        http=spec,
    )


WEATHER = {
    "paris": {"temperature_c": 18, "conditions": "light rain"},
    "london": {"temperature_c": 14, "conditions": "cloudy"},
    "tokyo": {"temperature_c": 26, "conditions": "sunny"},
    "berlin": {"temperature_c": 9, "conditions": "windy"},
    "new york": {"temperature_c": 22, "conditions": "clear"},
    "beijing": {"temperature_c": 31, "conditions": "hazy"},
}
STOCKS = {"ACME": 123.45, "GLOBEX": 78.9, "INITECH": 12.5}
DIRECTORY = {
    "alice smith": {"extension": "4417", "office": "B-204"},
    "bob jones": {"extension": "2290", "office": "A-118"},
    "carol white": {"extension": "7731", "office": "C-009"},
}
CAPITALS = {"france": "Paris", "japan": "Tokyo", "kenya": "Nairobi", "peru": "Lima", "canada": "Ottawa"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def handle(self) -> None:
        # The client may give up early (a timeout or size-cap test): expected, not an error.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        head, arg = segments[0], (segments[1] if len(segments) > 1 else "")
        if head == "weather":
            found = WEATHER.get(arg.lower())
            self._json({"city": arg, **found} if found else {"error": "unknown city"}, 200 if found else 404)
        elif head == "stock":
            price = STOCKS.get(arg.upper())
            self._json(
                {"symbol": arg.upper(), "price": price} if price else {"error": "unknown"},
                200 if price else 404,
            )
        elif head == "capital":
            capital = CAPITALS.get(arg.lower())
            self._json(
                {"country": arg, "capital": capital} if capital else {"error": "unknown"},
                200 if capital else 404,
            )
        elif head == "directory":
            person = DIRECTORY.get(arg.lower())
            self._json({"name": arg, **person} if person else {"error": "unknown"}, 200 if person else 404)
        elif head == "echo":
            self._json(self._echo(parts.path, parts.query))
        elif head == "big":
            self._json({"data": "x" * 400_000})
        elif head == "endless":
            self._endless()
        elif head == "slow":
            time.sleep(2)
            self._json({"slow": True})
        elif head == "redirect":
            target = parse_qs(parts.query)["to"][0]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json({"error": "no route"}, 404)

    def _echo(self, path: str, query: str) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return {
            "method": self.command,
            "path": path,
            "query": {k: v[0] for k, v in parse_qs(query).items()},
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": json.loads(body) if body else None,
        }

    def _json(self, value: Any, status: int = 200) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"y" * 8192
        try:
            for _ in range(10_000):  # bounded: stops by itself even if the client keeps reading
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextmanager
def local_http_server() -> Iterator[str]:
    """Runs the server in a thread; yields its base URL, http://127.0.0.1:PORT."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
