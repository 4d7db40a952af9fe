"""The library's settings file, ``evidence.toml``: optional, and every setting has a default.

[refs]
style = "vancouver"     # default citation style for `evidence refs` and `evidence report`
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from .errors import BadInputError

CONFIG_NAME = "evidence.toml"


@dataclass(frozen=True)
class Config:
    style: str = "apa"


def parse_config(text: str, source: str = CONFIG_NAME) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadInputError(f"{source} is not valid TOML: {error}.") from None
    refs = data.get("refs", {})
    style = refs.get("style", Config.style) if isinstance(refs, dict) else Config.style
    if not isinstance(style, str) or not style.strip():
        raise BadInputError(f"{source}: refs.style must be the name of a citation style.")
    return Config(style=style.strip())
