"""Shared fixtures: a fake Crossref on loopback, a guard against any other network use, and a CLI runner."""

from __future__ import annotations

import ipaddress
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakebiblio import FakeBiblio  # noqa: E402
from fakeserver import FakeCrossref  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX paths never leave the machine
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if not _is_loopback(address):
        raise AssertionError(f"A test tried to connect to {address!r}; tests may only talk to 127.0.0.1.")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_loopback(address):
        raise AssertionError(f"A test tried to connect to {address!r}; tests may only talk to 127.0.0.1.")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def no_network_but_loopback(monkeypatch):
    """Any connection to a non-loopback address fails the test that made it."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path, biblio_server):
    """Tests never see the developer's own library, mail address or service URLs."""
    for name in (
        "EVIDENCE_LIBRARY",
        "EVIDENCE_CROSSREF_URL",
        "EVIDENCE_DOI_URL",
        "EVIDENCE_MAILTO",
        "EVIDENCE_OFFLINE",
        "EVIDENCE_SEMANTIC",
        "EVIDENCE_NCBI_API_KEY",
        "EVIDENCE_OPENALEX_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    # Unroutable defaults: if a code path forgot the base URL, the guard above catches it.
    monkeypatch.setenv("EVIDENCE_CROSSREF_URL", "http://192.0.2.1:9")
    monkeypatch.setenv("EVIDENCE_DOI_URL", "http://192.0.2.1:9")
    # PubMed, Europe PMC and OpenAlex: every test that goes online meets the recorded answers (add enriches).
    server = biblio_server.reset()
    monkeypatch.setenv("EVIDENCE_PUBMED_URL", server.url + "/eutils")
    monkeypatch.setenv("EVIDENCE_IDCONV_URL", server.url + "/idconv")
    monkeypatch.setenv("EVIDENCE_EUROPEPMC_URL", server.url + "/europepmc")
    monkeypatch.setenv("EVIDENCE_OPENALEX_URL", server.url + "/openalex")
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def biblio_server():
    """One fake PubMed / Europe PMC / OpenAlex for the whole run, reset for each test."""
    server = FakeBiblio().start()
    yield server
    server.stop()


@pytest.fixture
def biblio(biblio_server):
    """The fake PubMed, Europe PMC and OpenAlex (already pointed at by the environment, fresh for this test)."""
    return biblio_server


@pytest.fixture(scope="session")
def crossref_server():
    """One fake Crossref for the whole run (each test gets it reset, through ``crossref``)."""
    server = FakeCrossref().start()
    yield server
    server.stop()


@pytest.fixture
def crossref(monkeypatch, crossref_server):
    """The fake Crossref, fresh; EVIDENCE_CROSSREF_URL and EVIDENCE_DOI_URL point at it."""
    server = crossref_server.reset()
    monkeypatch.setenv("EVIDENCE_CROSSREF_URL", server.url)
    monkeypatch.setenv("EVIDENCE_DOI_URL", server.url)
    return server


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        import json

        return json.loads(self.stdout)


@pytest.fixture
def run(capsys):
    """Run the evidence command in-process (so the network guard applies) and capture what it printed."""
    from evidence.cli.main import main

    def invoke(*args: str, stdin: bytes | None = None) -> Result:
        capsys.readouterr()
        if stdin is not None:
            import io

            fake = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
            old, sys.stdin = sys.stdin, fake
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        finally:
            if stdin is not None:
                sys.stdin = old
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


@pytest.fixture
def seed(tmp_path):
    """A private copy of the embedded library, so tests never write into the repository."""
    import shutil

    path = tmp_path / "seed"
    shutil.copytree(ROOT / "library", path, ignore=shutil.ignore_patterns(".index", ".lock"))
    return path


@pytest.fixture
def library(tmp_path, run):
    """A new empty library folder."""
    path = tmp_path / "lib"
    assert run("init", path).exit_code == 0
    return path
