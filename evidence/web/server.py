"""Serving the app with uvicorn on loopback (another host only when asked for by name), and opening the browser."""

from __future__ import annotations

import ipaddress
import socket
import threading
import webbrowser
from collections.abc import Callable

from evidence.errors import UsageError
from evidence.web.app import create_app
from evidence.web.site import Site


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host headers this server answers to: its own address with the port (and localhost when on loopback);
    on port 80 also without it, as browsers then send it."""
    names = {host} | ({"127.0.0.1", "localhost", "[::1]"} if is_loopback(host) else set())
    shown = {f"[{name}]" if ":" in name and not name.startswith("[") else name for name in names}
    return {f"{name}:{port}" for name in shown} | (shown if port == 80 else set())


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the server starts so the address printed is the one served (port 0: a
    free port chosen by the system)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise UsageError(f"Cannot listen on {host}:{port}: {error.strerror or error}; choose another --port.") from None
    sock.listen(64)
    return sock


def serve(site: Site, host: str, port: int, open_browser: bool, announce: Callable[[str], None]) -> None:
    """Serve until interrupted; ``announce(url)`` hears the address once the socket listens."""
    import uvicorn

    sock = bind(host, port)
    port = sock.getsockname()[1]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    app = create_app(site, allowed_hosts(host, port))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False)
    server = uvicorn.Server(config)
    announce(url)
    if open_browser:
        threading.Timer(0.5, lambda: webbrowser.open(url)).start()
    server.run(sockets=[sock])
