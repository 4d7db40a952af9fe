"""What every request must pass before a page sees it, so that no other site can use the server through the
user's own browser:

- the Host header names this server (127.0.0.1:PORT, localhost:PORT, or the host it was told to serve), which
  defeats DNS rebinding: a hostile name that resolves to 127.0.0.1 still sends its own name as the Host;
- a request that can change anything (any method but GET and HEAD) comes from one of this server's own pages: its
  Origin header (or, where a browser sends none, its Referer) is this server's origin; the form's CSRF token is
  checked by the page itself (``site.Site.check_token``);
- a body is at most ``max_body`` bytes, counted as it arrives (a Content-Length is not trusted to be honest), and
  read whole before the page runs.

Every answer also carries headers that keep the pages from being framed or from loading anything from elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased; '' for anything that is not an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def write_allowed(method: str, host: str, origin: str | None, referer: str | None) -> bool:
    """Whether a request may change anything: safe methods always; others only from this server's own pages."""
    if method in SAFE_METHODS:
        return True
    own = f"http://{host}".lower()
    if origin is not None:
        return origin.strip().lower() == own
    return referer is not None and origin_of(referer) == own


class Guard:
    """ASGI middleware applying the rules above in front of the application."""

    def __init__(self, app, allowed_hosts: set[str], max_body: int):
        self.app = app
        self.allowed_hosts = {host.lower() for host in allowed_hosts}
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        host = headers.get("host", "").lower()
        if host not in self.allowed_hosts:
            return await _refuse(send, 421, "This server answers only to its own address (the Host was not it).")
        if not write_allowed(scope["method"], host, headers.get("origin"), headers.get("referer")):
            return await _refuse(send, 403, "Refused: the request did not come from one of this server's pages.")
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            return await _refuse(send, 413, f"Refused: more than {self.max_body // 1_000_000} MB was sent.")

        body = bytearray()
        if scope["method"] not in SAFE_METHODS:  # read whole (bounded) before the page runs, then handed on
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return None  # the browser went away
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_body:
                    return await _refuse(send, 413, f"Refused: more than {self.max_body // 1_000_000} MB was sent.")
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def secured_send(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, replay, secured_send)


async def _refuse(send, status: int, sentence: str) -> None:
    body = sentence.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
