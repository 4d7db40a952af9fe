"""The library's settings file, ``evidence.toml``: optional, and every setting has a default.

[refs]
style = "vancouver"     # default citation style for `evidence refs` and `evidence report`
mark_retracted = true   # retracted works are marked "[Retracted]" in every list; false prints them as the style does

[check]
max_age_days = 30       # online, `check` and `report` fetch again records older than this (retractions come later)

[sources]
enrich = ["pubmed", "europepmc", "openalex"]   # asked in this order for what Crossref lacks; [] asks none
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from evidence.errors import BadInputError

CONFIG_NAME = "evidence.toml"
ENRICH_SERVICES = ("pubmed", "europepmc", "openalex")


@dataclass(frozen=True)
class Config:
    style: str = "apa"
    max_age_days: float = 30.0
    enrich: tuple[str, ...] = ENRICH_SERVICES
    mark_retracted: bool = True


def parse_config(text: str, source: str = CONFIG_NAME) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadInputError(f"{source} is not valid TOML: {error}.") from None
    refs = data.get("refs", {})
    style = refs.get("style", Config.style) if isinstance(refs, dict) else Config.style
    if not isinstance(style, str) or not style.strip():
        raise BadInputError(f"{source}: refs.style must be the name of a citation style.")
    check = data.get("check", {})
    age = check.get("max_age_days", Config.max_age_days) if isinstance(check, dict) else Config.max_age_days
    if isinstance(age, bool) or not isinstance(age, int | float) or age < 0:
        raise BadInputError(f"{source}: check.max_age_days must be a number of days (0 or more).")
    mark = refs.get("mark_retracted", True) if isinstance(refs, dict) else True
    if not isinstance(mark, bool):
        raise BadInputError(f"{source}: refs.mark_retracted must be true or false.")
    sources = data.get("sources", {})
    enrich = sources.get("enrich", list(ENRICH_SERVICES)) if isinstance(sources, dict) else list(ENRICH_SERVICES)
    if not isinstance(enrich, list) or any(name not in ENRICH_SERVICES for name in enrich):
        raise BadInputError(
            f"{source}: sources.enrich must be a list of services among {', '.join(ENRICH_SERVICES)} (or [])."
        )
    return Config(
        style=style.strip(), max_age_days=float(age), enrich=tuple(dict.fromkeys(enrich)), mark_retracted=mark
    )
