"""A Crossref-compatible HTTP server on 127.0.0.1 for the tests.

It answers the calls evidence makes against api.crossref.org and doi.org, in the same shapes:

- ``GET /works/{doi}``                      a work message, or 404 ``Resource not found.``
- ``GET /works?filter=doi:A,doi:B&rows=N``  a list message with the works it knows
- ``GET /works/{doi}/agency``               the registration agency
- ``GET /api/handles/{doi}``                doi.org's handle API (responseCode 1 = exists, 100 = not found)

Like Crossref since December 2025 it can enforce limits (``limits=(single/s, list/s, concurrent)``): a request
beyond them gets 429 with ``Retry-After``. ``latency`` delays every answer, as a distant server would.

Tests script misbehaviour per DOI (or for list requests under the key ``"*list*"``) with ``server.script``: each
DOI maps to a list of actions used one per request — ``"429"``, ``"500"``, ``"503"``, ``"html"``, ``"truncated"``,
``"slow"``, ``"drop"`` (close the connection), ``"wrong"`` (another DOI's record), ``"poisoned"`` (this DOI's record
marked retracted), ``"bomb"`` (gzip that unpacks to
100 MB), ``"huge"`` (40 MB of JSON), ``"drip"`` (a byte every 0.2 s) — after which normal answers
resume. ``aliases`` maps an alias DOI to its primary (answered with a 301, as Crossref does), ``agencies`` names
DOIs registered elsewhere, and every request is logged in ``server.log`` so tests can count and inspect them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

DATA = Path(__file__).parent / "data" / "crossref"


def load_records(folder: Path = DATA) -> dict[str, dict]:
    records = {}
    for path in sorted(folder.glob("*.json")):
        message = json.loads(path.read_text(encoding="utf-8"))
        records[message["DOI"].lower()] = message
    return records


_BOMB: list[bytes] = []


def _gzip_bomb() -> bytes:
    """gzip of 100 MB of spaces (about 100 kB), made once."""
    if not _BOMB:
        import zlib

        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = b" " * 1_000_000
        _BOMB.append(b"".join([*(packer.compress(block) for _ in range(100)), packer.flush()]))
    return _BOMB[0]


class FakeCrossref:
    def __init__(
        self,
        records: dict[str, dict] | None = None,
        slow_seconds: float = 3.0,
        limits: tuple[float, float, int] | None = None,
        latency: float = 0.0,
    ):
        self._initial = dict(load_records() if records is None else records)
        self.records = dict(self._initial)
        self.limits = limits
        self.latency = latency
        self._recent: dict[str, list[float]] = {"single": [], "list": []}
        self._in_flight = 0
        self.rejected = 0
        self.script: dict[str, list[str]] = defaultdict(list)
        self.aliases: dict[str, str] = {}
        self.agencies: dict[str, str] = {}
        if limits:
            self.rate_headers = {
                "x-rate-limit-limit": str(int(limits[0])),
                "x-rate-limit-interval": "1s",
                "x-concurrency-limit": str(limits[2]),
            }
        else:
            self.rate_headers = {"x-rate-limit-limit": "50", "x-rate-limit-interval": "1s", "x-concurrency-limit": "5"}
        self.slow_seconds = slow_seconds
        self._settings = (limits, latency, slow_seconds, dict(self.rate_headers))
        self.log: list[dict] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeCrossref:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> FakeCrossref:
        """Back to the records it started with and no script, aliases, agencies or log: one server serves every test
        of a run, each seeing it fresh."""
        with self._lock:
            self.records = dict(self._initial)
            self.script.clear()
            self.aliases.clear()
            self.agencies.clear()
            self.log.clear()
            self.rejected = 0
            self._recent = {"single": [], "list": []}
            self.limits, self.latency, self.slow_seconds, headers = self._settings
            self.rate_headers = dict(headers)
        return self

    def requests_to(self, kind: str) -> list[dict]:
        return [entry for entry in self.log if entry["kind"] == kind]

    def _admit(self, kind: str) -> bool:
        """Count a request against the limits; False when it goes beyond them (the caller answers 429)."""
        with self._lock:
            self._in_flight += 1
            if not self.limits:
                return True
            now = time.monotonic()
            window = [t for t in self._recent[kind] if now - t < 1.0]
            rate = self.limits[0] if kind == "single" else self.limits[1]
            if len(window) >= rate or self._in_flight > self.limits[2]:
                self._recent[kind] = window
                self.rejected += 1
                return False
            window.append(now)
            self._recent[kind] = window
            return True

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _next_action(self, key: str) -> str | None:
        with self._lock:
            actions = self.script.get(key)
            return actions.pop(0) if actions else None

    # ---------------------------------------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep pytest output clean
                return None

            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                kind = "list" if urlsplit(self.path).path == "/works" else "single"
                admitted = fake._admit(kind)
                try:
                    if fake.latency:
                        time.sleep(fake.latency)
                    if not admitted:
                        self._record("rejected", "", {})
                        return self._send(429, b"Too many requests", "text/plain", {"Retry-After": "1"})
                    return self._answer()
                finally:
                    fake._leave()

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                path = parts.path
                if path.startswith("/api/handles/"):
                    doi = unquote(path[len("/api/handles/") :]).lower()
                    self._record("handle", doi, query)
                    return self._handle(doi)
                if path == "/works" and "query.bibliographic" in query:
                    self._record("query", "", query)
                    words = set(query["query.bibliographic"][0].lower().split())

                    def overlap(work: dict) -> int:
                        text = " ".join(
                            (work.get("title") or [""])[:1] + [a.get("family", "") for a in work.get("author", [])]
                        )
                        return len(words & set(text.lower().split()))

                    ranked = sorted(fake.records.values(), key=overlap, reverse=True)
                    items = [w for w in ranked if overlap(w) > 0][: int(query.get("rows", ["5"])[0])]
                    return self._json(
                        200,
                        {
                            "status": "ok",
                            "message-type": "work-list",
                            "message": {"total-results": len(items), "items": items},
                        },
                    )
                if path == "/works":
                    dois = [d[4:].lower() for d in query.get("filter", [""])[0].split(",") if d.startswith("doi:")]
                    self._record("list", ",".join(dois), query)
                    if self._misbehave("*list*"):
                        return None
                    items = [fake.records[d] for d in dois if d in fake.records]
                    rows = int(query.get("rows", ["20"])[0])
                    return self._json(
                        200,
                        {
                            "status": "ok",
                            "message-type": "work-list",
                            "message": {"total-results": len(items), "items": items[:rows]},
                        },
                    )
                if path.startswith("/works/"):
                    rest = unquote(path[len("/works/") :])
                    if rest.endswith("/agency"):
                        doi = rest[: -len("/agency")].lower()
                        self._record("agency", doi, query)
                        return self._agency(doi)
                    doi = rest.lower()
                    self._record("work", doi, query)
                    if self._misbehave(doi):
                        return None
                    if doi in fake.aliases:
                        location = f"/works/{quote(fake.aliases[doi], safe='')}"
                        return self._send(301, b"", "text/plain", {"Location": location})
                    if doi in fake.records:
                        return self._json(200, {"status": "ok", "message-type": "work", "message": fake.records[doi]})
                    return self._send(404, b"Resource not found.", "text/plain")
                return self._send(404, b"Resource not found.", "text/plain")

            # -------------------------------------------------------------------------------------------------------
            def _record(self, kind: str, doi: str, query: dict) -> None:
                with fake._lock:
                    fake.log.append(
                        {"kind": kind, "doi": doi, "query": query, "user_agent": self.headers.get("User-Agent", "")}
                    )

            def _misbehave(self, key: str) -> bool:
                action = fake._next_action(key)
                if action is None:
                    return False
                if action == "429":
                    self._send(429, b"Too many requests", "text/plain", {"Retry-After": "0"})
                elif action in ("500", "502", "503", "504"):
                    self._send(int(action), b"Server error", "text/plain")
                elif action == "html":
                    self._send(200, b"<html><body>Maintenance</body></html>", "text/html")
                elif action == "truncated":
                    self._send(200, b'{"status": "ok", "message": {"DOI": "10.', "application/json")
                elif action == "slow":
                    time.sleep(fake.slow_seconds)
                    return False
                elif action == "wrong":
                    other = next(record for doi, record in sorted(fake.records.items()) if doi != key)
                    self._json(200, {"status": "ok", "message-type": "work", "message": other})
                elif action == "poisoned":  # the record of this DOI, marked retracted (once: a tampered answer)
                    notice = {"updated-by": [{"DOI": "10.1/forged-notice", "type": "retraction"}]}
                    self._json(
                        200, {"status": "ok", "message-type": "work", "message": {**fake.records[key], **notice}}
                    )
                elif action == "bomb":  # 1 MB or so of gzip that unpacks to 100 MB
                    self._send(200, _gzip_bomb(), "application/json", {"Content-Encoding": "gzip"})
                elif action == "huge":  # 40 MB of real JSON
                    padding = "x" * 40_000_000
                    body = {"status": "ok", "message": {"DOI": key, "title": [padding]}}
                    self._json(200, body)
                elif action == "drip":  # a byte at a time, never quite finished within any deadline worth having
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    try:
                        for _ in range(1000):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.2)
                    except OSError:
                        pass
                elif action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                return True

            def _agency(self, doi: str) -> None:
                if doi in fake.records or doi in fake.aliases:
                    agency = "crossref"
                elif doi in fake.agencies:
                    agency = fake.agencies[doi]
                else:
                    return self._send(404, b"Resource not found.", "text/plain")
                return self._json(
                    200,
                    {
                        "status": "ok",
                        "message-type": "work-agency",
                        "message": {"DOI": doi, "agency": {"id": agency, "label": agency}},
                    },
                )

            def _handle(self, doi: str) -> None:
                known = doi in fake.records or doi in fake.agencies or doi in fake.aliases
                if known:
                    return self._json(200, {"responseCode": 1, "handle": doi.upper(), "values": []})
                return self._json(404, {"responseCode": 100, "handle": doi.upper()})

            def _json(self, status: int, body: dict) -> None:
                self._send(status, json.dumps(body).encode(), "application/json;charset=utf-8")

            def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in {**fake.rate_headers, **(headers or {})}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler
