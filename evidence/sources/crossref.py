"""Crossref REST API and doi.org client: the only module that opens sockets.

Built on requests rather than habanero because the tool must tell a 429 from a 404 (habanero turns both into
``None`` or an httpx2 error), read the rate-limit headers, batch many DOIs into one ``filter=doi:`` request, and let
tests point every call (content negotiation included) at a loopback server by changing only the base URL.
Every failure leaves this module as an ``evidence.errors`` exception or a status, never a requests exception.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

import requests

from evidence.errors import NetworkError, RemoteDataError
from evidence.sources.endpoints import DEFAULT_CROSSREF_URL, DEFAULT_DOI_URL
from evidence.version import __version__

# Crossref's limits from December 2025: (single requests per second, list requests per second, concurrent).
PUBLIC_POOL = (5.0, 1.0, 1)
POLITE_POOL = (10.0, 3.0, 3)
MAX_URL_LENGTH = 4000
# The largest answer read: a list of 100 works with their reference lists is a few MB; beyond this it is not a record.
MAX_ANSWER_BYTES = 32_000_000
# Requests leave 10% under the advertised rate: arrival jitter must not push a window over the server's count.
SAFETY = 1.1


class Unreachable(Exception):
    """The service could not give an answer for this request after all retries (not the same as 'not found')."""


class _TooLarge(Exception):
    """An answer grew past the size limit while it was read."""


class _TooSlow(Exception):
    """An answer did not arrive whole within the deadline."""


@dataclass
class Counters:
    """What a run cost, for the summary line; safe to update from several fetching threads."""

    requests: int = 0
    rate_limited: int = 0
    retries: int = 0
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


@dataclass
class Pacer:
    """Spaces requests so that no more than ``rate`` start per second; adopts the server's advertised limit."""

    rate: float
    _next: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, sleep=time.sleep, clock=time.monotonic) -> None:
        with self._lock:
            now = clock()
            start = max(now, self._next)
            self._next = start + SAFETY / self.rate
        if start > now:
            sleep(start - now)

    def hold(self, seconds: float, clock=time.monotonic) -> None:
        """After a 429 nobody sharing this pacer starts a request before ``seconds`` have passed."""
        with self._lock:
            self._next = max(self._next, clock() + seconds)

    def adopt(self, limit: str | None, interval: str | None) -> None:
        try:
            count = float(limit) if limit else 0.0
            seconds = float(str(interval).rstrip("s")) if interval else 1.0
        except ValueError:
            return
        if count > 0 and seconds > 0:
            self.rate = min(self.rate, count / seconds) if self.rate else count / seconds


class Slots:
    """At most ``limit`` requests in flight at once; the limit can shrink when the server asks for less."""

    def __init__(self, limit: int):
        self.limit = max(1, limit)
        self._busy = 0
        self._cond = threading.Condition()

    def adopt(self, value: str | None) -> None:
        try:
            wanted = int(value) if value else 0
        except ValueError:
            return
        if wanted > 0:
            with self._cond:
                self.limit = min(self.limit, wanted)

    def __enter__(self):
        with self._cond:
            while self._busy >= self.limit:
                self._cond.wait()
            self._busy += 1
        return self

    def __exit__(self, *exc) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify()


class CrossrefClient:
    """Fetches Crossref work messages. ``base_url`` is the only thing tests change."""

    def __init__(
        self,
        base_url: str = DEFAULT_CROSSREF_URL,
        doi_url: str = DEFAULT_DOI_URL,
        mailto: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 5,
        backoff: float = 0.5,
        sleep=time.sleep,
        deadline: float = 60.0,
        max_bytes: int = MAX_ANSWER_BYTES,
    ):
        self.base_url = base_url.rstrip("/")
        self.doi_url = doi_url.rstrip("/")
        self.mailto = mailto
        self.session = session or requests.Session()
        agent = (
            f"evidence/{__version__} (https://pypi.org/project/evidence; mailto:{mailto})"
            if mailto
            else (f"evidence/{__version__}")
        )
        self.session.headers.update({"User-Agent": agent, "Accept": "application/json"})
        self.timeout = timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep
        single, listing, concurrency = POLITE_POOL if mailto else PUBLIC_POOL
        self.single_pacer = Pacer(single)
        self.list_pacer = Pacer(listing)
        self.slots = Slots(concurrency)
        self.counters = Counters()

    # Low level ----------------------------------------------------------------------------------------------------
    def _params(self, params: dict | None = None) -> dict:
        params = dict(params or {})
        if self.mailto:
            params["mailto"] = self.mailto
        return params

    def _get(self, url: str, params: dict | None, pacer: Pacer, allow_redirects: bool = True) -> requests.Response:
        """GET with pacing, Retry-After on 429 and jittered exponential backoff on 5xx, timeouts and broken links.

        Returns the final response (2xx, 3xx or 4xx other than 429); raises Unreachable when attempts run out.
        """
        last_problem = "no answer"
        for attempt in range(self.max_attempts):
            pacer.wait(self.sleep)
            self.counters.count("requests")
            try:
                with self.slots:
                    response = self._within_deadline(url, params, allow_redirects)
            except _TooLarge as error:
                self.counters.count("failures")
                raise RemoteDataError(str(error)) from None
            except _TooSlow as error:
                self.counters.count("failures")
                raise Unreachable(str(error)) from None
            except requests.Timeout:
                last_problem = "timed out"
                delay = self._backoff_delay(attempt)
            except requests.ConnectionError:
                last_problem = "connection failed"
                delay = self._backoff_delay(attempt)
            except requests.RequestException as error:
                last_problem = f"request failed ({type(error).__name__})"
                delay = self._backoff_delay(attempt)
            else:
                pacer.adopt(response.headers.get("x-rate-limit-limit"), response.headers.get("x-rate-limit-interval"))
                self.slots.adopt(response.headers.get("x-concurrency-limit"))
                if response.status_code == 429:
                    self.counters.count("rate_limited")
                    last_problem = "rate limited (429)"
                    delay = _retry_after(response.headers.get("Retry-After"), self._backoff_delay(attempt))
                    pacer.hold(delay)
                elif response.status_code >= 500:
                    last_problem = f"server error {response.status_code}"
                    delay = self._backoff_delay(attempt)
                else:
                    return response
            if attempt + 1 < self.max_attempts:
                self.counters.count("retries")
                self.sleep(delay)
        self.counters.count("failures")
        raise Unreachable(last_problem)

    def _within_deadline(self, url: str, params: dict | None, allow_redirects: bool) -> requests.Response:
        """The response with its whole body read, or _TooSlow once ``deadline`` seconds have passed.

        requests' timeouts bound each socket read, not the request: a server that sends a byte every few seconds
        is never timed out. So the request runs on a helper thread and is abandoned at the deadline (the thread
        ends with the connection; it holds nothing of the library's)."""
        outcome: dict = {}
        finished = threading.Event()

        def fetch() -> None:
            try:
                outcome["response"] = self._bounded_get(url, params, allow_redirects)
            except BaseException as error:  # noqa: BLE001 - handed to the waiting thread, which raises it there
                outcome["error"] = error
            finally:
                finished.set()

        threading.Thread(target=fetch, name="crossref-request", daemon=True).start()
        if not finished.wait(self.deadline):
            raise _TooSlow(f"the answer took longer than {self.deadline:.0f} s, so it was abandoned")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _bounded_get(self, url: str, params: dict | None, allow_redirects: bool) -> requests.Response:
        """GET with the body read in small pieces and refused past ``max_bytes`` once decompressed: a 1 MB gzip
        answer can unpack to gigabytes, and a 100 MB record stored would slow every later command."""
        response = self.session.get(
            url, params=params, timeout=self.timeout, allow_redirects=allow_redirects, stream=True
        )
        try:
            declared = response.headers.get("Content-Length", "")
            too_large = _TooLarge(
                f"Crossref's answer to {url} is larger than {self.max_bytes // 1_000_000} MB, "
                "more than any record; nothing was stored"
            )
            if (
                declared.isdigit()
                and int(declared) > self.max_bytes
                and "gzip" not in response.headers.get("Content-Encoding", "")
            ):
                raise too_large
            chunks, size = [], 0
            for chunk in response.iter_content(16384):
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_large
                chunks.append(chunk)
            response._content = b"".join(chunks)  # what .json() and .text read, as requests does itself
        finally:
            response.close()
        return response

    def _backoff_delay(self, attempt: int) -> float:
        return self.backoff * (2**attempt) * (0.5 + random.random())

    @staticmethod
    def _json(response: requests.Response, what: str) -> dict:
        try:
            data = response.json()
        except ValueError:
            kind = (
                "an HTML page" if "html" in response.headers.get("Content-Type", "") else "something that is not JSON"
            )
            raise RemoteDataError(f"Crossref answered {what} with {kind}.") from None
        if not isinstance(data, dict):
            raise RemoteDataError(f"Crossref answered {what} with JSON of an unexpected shape.")
        return data

    # Public calls -------------------------------------------------------------------------------------------------
    def work(self, doi: str) -> dict | None:
        """The work message for one DOI; None when Crossref has no such work (404). Follows alias redirects."""
        url = f"{self.base_url}/works/{quote(doi, safe='')}"
        response = self._get(url, self._params(), self.single_pacer)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RemoteDataError(f"Crossref answered the request for {doi} with HTTP {response.status_code}.")
        data = self._json(response, f"the request for {doi}")
        message = data.get("message")
        if not isinstance(message, dict) or not message.get("DOI"):
            raise RemoteDataError(f"Crossref's answer for {doi} holds no work record.")
        returned = str(message["DOI"])
        # An alias answers with a redirect to its primary DOI, whose record is the right one; any other record is not.
        redirected_to = unquote(response.url).lower().endswith("/works/" + returned.lower())
        if returned.lower() != doi.lower() and not (response.history and redirected_to):
            raise RemoteDataError(f"Crossref answered the request for {doi} with the record of {returned}.")
        return message

    def batch_size_for(self, dois: list[str]) -> int:
        """How many of ``dois`` fit in one filter URL (Crossref answers at most 1000 rows)."""
        length = len(self.base_url) + 60 + (len(self.mailto) + 8 if self.mailto else 0)
        count = 0
        for doi in dois:
            length += len(quote("doi:" + doi, safe="")) + 3
            if length > MAX_URL_LENGTH or count >= 100:
                break
            count += 1
        return max(count, 1)

    def works(self, dois: list[str]) -> dict[str, dict]:
        """Messages for many DOIs in one list request, keyed by lower-case DOI; DOIs Crossref lacks are absent."""
        if not dois:
            return {}
        params = self._params({"filter": ",".join("doi:" + d for d in dois), "rows": str(len(dois))})
        response = self._get(f"{self.base_url}/works", params, self.list_pacer)
        if response.status_code != 200:
            raise RemoteDataError(f"Crossref answered a list request with HTTP {response.status_code}.")
        data = self._json(response, "a list request")
        items = (data.get("message") or {}).get("items")
        if not isinstance(items, list):
            raise RemoteDataError("Crossref's answer to a list request holds no list of works.")
        found = {}
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("DOI"), str):
                found[item["DOI"].lower()] = item
        return found

    def search_bibliographic(self, text: str, rows: int = 5) -> list[dict]:
        """Crossref's best matches for a written reference (``query.bibliographic``), best first."""
        params = self._params({"query.bibliographic": text[:1000], "rows": str(rows)})
        response = self._get(f"{self.base_url}/works", params, self.list_pacer)
        if response.status_code != 200:
            raise RemoteDataError(f"Crossref answered a bibliographic query with HTTP {response.status_code}.")
        items = (self._json(response, "a bibliographic query").get("message") or {}).get("items")
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    def agency(self, doi: str) -> str | None:
        """The registration agency of a DOI ('crossref', 'datacite', 'medra', ...) or None if it is not registered."""
        url = f"{self.base_url}/works/{quote(doi, safe='')}/agency"
        response = self._get(url, self._params(), self.single_pacer)
        if response.status_code == 200:
            try:
                agency = self._json(response, f"the agency request for {doi}")["message"]["agency"]["id"]
                return str(agency).lower()
            except (KeyError, TypeError):
                pass
        return self.handle_exists(doi)

    def handle_exists(self, doi: str) -> str | None:
        """Ask doi.org's handle API whether the DOI exists at all: 'unknown-agency' if it does, else None."""
        url = f"{self.doi_url}/api/handles/{quote(doi, safe='/')}"
        response = self._get(url, None, self.single_pacer)
        if response.status_code == 200:
            try:
                code = self._json(response, f"the handle request for {doi}").get("responseCode")
            except RemoteDataError:
                return None
            return "unknown-agency" if code == 1 else None
        return None


def _retry_after(value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        return max(0.0, min(float(value), 120.0))
    except ValueError:
        return default


def raise_if_all_unreachable(total: int, unreachable: int, base_url: str) -> None:
    """Exit 4 territory: nothing at all could be fetched because the service was never reached."""
    if total and unreachable == total:
        raise NetworkError(f"Crossref could not be reached at {base_url}; check the network or use --offline.")
