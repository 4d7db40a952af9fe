"""PubMed (E-utilities and the PMC ID Converter), Europe PMC and OpenAlex on 127.0.0.1, for the tests.

Serves the real recorded answers in ``../shared/test-corpora/abstract-sources/`` (see its INDEX.md and PROVENANCE
files), in the shapes the services use:

- ``GET /eutils/esearch.fcgi?term="10.x/y"[doi] OR ...``   eSearchResult with the PMIDs recorded under those DOIs
- ``GET|POST /eutils/efetch.fcgi?id=1,2``                 PubmedArticleSet of the recorded articles (empty set for
  unknown PMIDs, as efetch answers)
- ``GET /idconv/?ids=...``                                the converter's JSON records
- ``GET /europepmc/search?query=DOI:"..." OR EXT_ID:N AND SRC:MED``   core results
- ``GET /openalex/works?filter=doi:a|b``                  a list of works

``script[service]`` lists misbehaviours used one per request: ``"429"`` (with Retry-After), ``"500"``,
``"garbage"`` (an HTML page), ``"truncated"`` (the answer cut in the middle), ``"entities"`` (XML declaring an
entity, the billion-laughs shape), ``"wrong"`` (every record the service has, whatever was asked: other works').
Every request is logged in ``log`` as (service, path, query).
"""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "test-corpora" / "abstract-sources"


def _doi_of(article: ET.Element) -> str:
    for item in article.findall("./PubmedData/ArticleIdList/ArticleId"):
        if item.get("IdType") == "doi" and item.text:
            return item.text.strip().lower()
    return ""


def load_pubmed() -> dict[str, str]:
    """{pmid: the recorded <PubmedArticle> element's text}."""
    found = {}
    for path in sorted((CORPUS / "pubmed").glob("*/*.xml")):
        root = ET.fromstring(path.read_bytes())
        for article in root:
            pmid = article.findtext("./MedlineCitation/PMID") or article.findtext("./BookDocument/PMID")
            if pmid:
                found[pmid.strip()] = ET.tostring(article, encoding="unicode")
    return found


def load_europepmc() -> list[dict]:
    results = []
    for path in sorted((CORPUS / "europepmc").glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("request", {}).get("resultType", "core") == "core" or "core" in path.name:
            results += [
                r for r in data.get("resultList", {}).get("result", []) if "abstractText" in r or "pubTypeList" in r
            ]
    return results


def load_openalex() -> list[dict]:
    works = []
    for path in sorted((CORPUS / "openalex").glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        works += data["results"] if isinstance(data, dict) and "results" in data else [data]
    return [w for w in works if isinstance(w, dict) and w.get("doi")]


class FakeBiblio:
    def __init__(self):
        self._initial = (load_pubmed(), load_europepmc(), load_openalex())
        self.script: dict[str, list[str]] = {}
        self.log: list[tuple[str, str, dict]] = []
        self._lock = threading.Lock()
        self.reset()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeBiblio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> FakeBiblio:
        pubmed, europepmc, openalex = self._initial
        with self._lock:
            self.pubmed = dict(pubmed)
            self.europepmc = list(europepmc)
            self.openalex = list(openalex)
            self.script.clear()
            self.log.clear()
            self.methods = []
        return self

    def requests_to(self, service: str) -> list[tuple[str, str, dict]]:
        return [entry for entry in self.log if entry[0] == service]

    def _pubmed_by_doi(self) -> dict[str, str]:
        return {_doi_of(ET.fromstring(raw)): pmid for pmid, raw in self.pubmed.items() if _doi_of(ET.fromstring(raw))}

    def _handler(self):
        fake = self
        truncate_next: dict[int, bool] = {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802
                self._answer(parse_qs(urlsplit(self.path).query))

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                self._answer({**parse_qs(urlsplit(self.path).query), **form})

            def _answer(self, query: dict) -> None:
                path = urlsplit(self.path).path
                service = path.strip("/").split("/")[0]
                flat = {name: values[0] for name, values in query.items()}
                with fake._lock:
                    fake.log.append((service, path, flat))
                    fake.methods.append(self.command)
                    actions = fake.script.get(service)
                    action = actions.pop(0) if actions else None
                if action == "429":
                    return self._send(
                        429, b'{"error":"API rate limit exceeded"}', "application/json", {"Retry-After": "0"}
                    )
                if action == "500":
                    return self._send(500, b"server error", "text/plain")
                if action == "garbage":
                    return self._send(200, b"<html><body>maintenance</body></html>", "text/html")
                if action == "entities":
                    bomb = (
                        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                        b"<PubmedArticleSet>&b;</PubmedArticleSet>"
                    )
                    return self._send(200, bomb, "text/xml")
                truncate_next[threading.get_ident()] = action == "truncated"
                if action == "wrong":
                    if service == "openalex":
                        body = json.dumps({"results": fake.openalex[:3]}).encode()
                        return self._send(200, body, "application/json")
                    if service == "europepmc":
                        body = json.dumps({"resultList": {"result": fake.europepmc[:3]}}).encode()
                        return self._send(200, body, "application/json")
                if path.endswith("/esearch.fcgi"):
                    by_doi = fake._pubmed_by_doi()
                    dois = re.findall(r'"([^"]+)"\[doi\]', flat.get("term", ""))
                    ids = "".join(f"<Id>{by_doi[d.lower()]}</Id>" for d in dois if d.lower() in by_doi)
                    body = f"<eSearchResult><Count>{ids.count('<Id>')}</Count><IdList>{ids}</IdList></eSearchResult>"
                    return self._send(200, body.encode(), "text/xml")
                if path.endswith("/efetch.fcgi"):
                    ids = [i for i in flat.get("id", "").split(",") if i]
                    body = "<PubmedArticleSet>" + "".join(fake.pubmed.get(i, "") for i in ids) + "</PubmedArticleSet>"
                    return self._send(200, body.encode(), "text/xml")
                if service == "idconv":
                    records = []
                    for ident in flat.get("ids", "").split(","):
                        for pmid, raw in fake.pubmed.items():
                            article = ET.fromstring(raw)
                            ids = {
                                i.get("IdType"): i.text for i in article.findall("./PubmedData/ArticleIdList/ArticleId")
                            }
                            if ids.get("pmc", "").upper() == ident.upper():
                                records.append({"pmcid": ids["pmc"], "pmid": pmid, "doi": ids.get("doi", "")})
                                break
                        else:
                            records.append({"pmcid": ident, "status": "error", "errmsg": "invalid article id"})
                    return self._send(
                        200, json.dumps({"status": "ok", "records": records}).encode(), "application/json"
                    )
                if service == "europepmc" and path.endswith("/search"):
                    text = flat.get("query", "")
                    dois = {d.lower() for d in re.findall(r'DOI:"([^"]+)"', text)}
                    pmids = set(re.findall(r"EXT_ID:(\d+)", text))
                    hits = [
                        r
                        for r in fake.europepmc
                        if str(r.get("doi", "")).lower() in dois or str(r.get("pmid")) in pmids
                    ]
                    body = {"hitCount": len(hits), "resultList": {"result": hits}}
                    return self._send(200, json.dumps(body).encode(), "application/json")
                if service == "openalex" and path.endswith("/works"):
                    wanted = {d.lower() for d in flat.get("filter", "")[4:].split("|")}
                    hits = [
                        w for w in fake.openalex if str(w["doi"]).lower().removeprefix("https://doi.org/") in wanted
                    ]
                    body = {"meta": {"count": len(hits)}, "results": hits}
                    return self._send(200, json.dumps(body).encode(), "application/json")
                return self._send(404, b"not found", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
                if truncate_next.get(threading.get_ident()):
                    body = body[: len(body) // 2]
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler
