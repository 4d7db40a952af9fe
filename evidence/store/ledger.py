"""Editing claims.toml: links added in whatever layout the user chose, comments kept (tomlkit)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from evidence.errors import LibraryError
from evidence.files import write_atomic


def link_supports(
    path: Path,
    text: str,
    claim_id: str,
    keys: list[str],
    stance: str,
    passages: dict[str, tuple[str, str]],
    claim_text: str = "",
) -> list[str]:
    """Add supports to a claim in claims.toml, keeping the user's comments and layout (tomlkit); atomic.

    ``passages`` maps a key to (passage, locator). Every shape TOML allows for the ledger is kept: tables and
    arrays of tables, inline tables, an inline array of supports. The new text is read back before it replaces
    the old, so the command never reports a link it wrote as invalid TOML. Returns the keys newly linked (a
    key already linked to the claim is left as it is)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError
    from tomlkit.items import AoT, Array, InlineTable

    try:
        document = tomlkit.parse(text)
    except TOMLKitError as error:
        raise LibraryError(f"claims.toml cannot be read: {error}.") from None
    claims = document.setdefault("claims", tomlkit.table(is_super_table=True))
    inline = isinstance(claims, InlineTable)
    if claim_id not in claims:
        entry = tomlkit.inline_table() if inline else tomlkit.table()
        entry["text"] = claim_text or claim_id
        claims[claim_id] = entry
    claim = claims[claim_id]
    if "support" not in claim:
        claim["support"] = tomlkit.array() if inline or isinstance(claim, InlineTable) else tomlkit.aot()
    supports = claim["support"]
    if not isinstance(supports, AoT | Array):
        raise LibraryError(f"claims.toml: claims.{claim_id}.support is not a list of supports, so nothing was linked.")
    present = {str(s.get("key", "")).lower() for s in supports if hasattr(s, "get")}
    added = []
    for key in keys:
        if key.lower() in present:
            continue
        support = tomlkit.table() if isinstance(supports, AoT) else tomlkit.inline_table()
        support["key"] = key
        support["stance"] = stance
        passage, locator = passages.get(key, ("", ""))
        if passage:
            support["passage"] = passage
            support["locator"] = locator
        supports.append(support)
        added.append(key)
    if added:
        written = tomlkit.dumps(document)
        try:
            linked = tomllib.loads(written)["claims"][claim_id]["support"]
        except (tomllib.TOMLDecodeError, KeyError, TypeError) as error:
            raise LibraryError(
                f"claims.toml could not be updated in its present layout ({error}); nothing was written."
            ) from None
        if not all(any(s.get("key") == key for s in linked) for key in added):
            raise LibraryError("claims.toml could not be updated in its present layout; nothing was written.")
        write_atomic(path, written.encode("utf-8"))
    return added
