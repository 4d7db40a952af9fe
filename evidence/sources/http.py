"""The one way evidence talks to a web service: paced, retried, bounded in size and time.

Every outside service (Crossref, PubMed, Europe PMC, OpenAlex) is a subclass of ``PoliteClient`` that names its
limits and its answers; this module is the only one that opens sockets. requests, not each service's own client
library, because the tool must tell a 429 from a 404, read the rate-limit headers, batch many identifiers into one
request, and let tests point every call at a loopback server by changing only the base URL. Every failure leaves a
client as an ``evidence.errors`` exception or ``Unreachable``, never a requests exception.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import requests

from evidence.errors import RemoteDataError
from evidence.version import __version__

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


class PoliteClient:
    """What every service client shares: one session with the tool's User-Agent, pacing, concurrency slots, retries,
    a deadline and a size limit per answer, and the counters of what a run cost. ``service`` names the service in
    every error sentence."""

    service = "the service"

    def __init__(
        self,
        base_url: str,
        mailto: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 5,
        backoff: float = 0.5,
        sleep=time.sleep,
        deadline: float = 60.0,
        max_bytes: int = MAX_ANSWER_BYTES,
        concurrency: int = 1,
        accept: str = "application/json",
    ):
        self.base_url = base_url.rstrip("/")
        self.mailto = mailto
        self.session = session or requests.Session()
        agent = f"evidence/{__version__}"
        if mailto:
            agent += f" (https://pypi.org/project/evidence; mailto:{mailto})"
        self.session.headers.update({"User-Agent": agent, "Accept": accept})
        self.timeout = timeout
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.sleep = sleep
        self.slots = Slots(concurrency)
        self.counters = Counters()

    def _get(
        self, url: str, params: dict | None, pacer: Pacer, allow_redirects: bool = True, data: dict | None = None
    ) -> requests.Response:
        """GET (POST with ``data``) with pacing, Retry-After on 429 and jittered exponential backoff on 5xx,
        timeouts and broken links.

        Returns the final response (2xx, 3xx or 4xx other than 429); raises Unreachable when attempts run out.
        """
        last_problem = "no answer"
        for attempt in range(self.max_attempts):
            pacer.wait(self.sleep)
            self.counters.count("requests")
            try:
                with self.slots:
                    response = self._within_deadline(url, params, allow_redirects, data)
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

    def _within_deadline(
        self, url: str, params: dict | None, allow_redirects: bool, data: dict | None = None
    ) -> requests.Response:
        """The response with its whole body read, or _TooSlow once ``deadline`` seconds have passed.

        requests' timeouts bound each socket read, not the request: a server that sends a byte every few seconds
        is never timed out. So the request runs on a helper thread and is abandoned at the deadline (the thread
        ends with the connection; it holds nothing of the library's)."""
        outcome: dict = {}
        finished = threading.Event()

        def fetch() -> None:
            try:
                outcome["response"] = self._bounded_get(url, params, allow_redirects, data)
            except BaseException as error:  # noqa: BLE001 - handed to the waiting thread, which raises it there
                outcome["error"] = error
            finally:
                finished.set()

        threading.Thread(target=fetch, name=f"{self.service}-request", daemon=True).start()
        if not finished.wait(self.deadline):
            raise _TooSlow(f"the answer took longer than {self.deadline:.0f} s, so it was abandoned")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _bounded_get(
        self, url: str, params: dict | None, allow_redirects: bool, data: dict | None = None
    ) -> requests.Response:
        """GET with the body read in small pieces and refused past ``max_bytes`` once decompressed: a 1 MB gzip
        answer can unpack to gigabytes, and a 100 MB record stored would slow every later command."""
        response = self.session.request(
            "POST" if data is not None else "GET",
            url,
            params=params,
            data=data,
            timeout=self.timeout,
            allow_redirects=allow_redirects,
            stream=True,
        )
        try:
            declared = response.headers.get("Content-Length", "")
            too_large = _TooLarge(
                f"{self.service}'s answer to {url} is larger than {self.max_bytes // 1_000_000} MB, "
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

    def _json(self, response: requests.Response, what: str) -> dict:
        try:
            data = response.json()
        except ValueError:
            kind = (
                "an HTML page" if "html" in response.headers.get("Content-Type", "") else "something that is not JSON"
            )
            raise RemoteDataError(f"{self.service} answered {what} with {kind}.") from None
        if not isinstance(data, dict):
            raise RemoteDataError(f"{self.service} answered {what} with JSON of an unexpected shape.")
        return data


def _retry_after(value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        return max(0.0, min(float(value), 120.0))
    except ValueError:
        return default
