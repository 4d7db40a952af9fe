"""Reading JSON a piece at a time (``sources.json_stream``): the values a whole read gives, wherever pieces end."""

import io
import json

import pytest

from evidence.sources import json_stream
from evidence.sources.json_stream import JSONStreamError, json_values

DOCUMENTS = [
    [{"id": "a", "title": "Caf\u00e9 \u2028 \U0001f600", "n": 12345678901234567890}, {"id": "b", "x": [1, 2.5e-3]}],
    [],
    {"message": {"items": [{"DOI": "10.1/x", "title": ["T"]}]}},
    123456,
    [[1, 2], [3]],
    "a string",
]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_values_read_in_pieces_are_those_a_whole_read_gives(monkeypatch, chunk):
    monkeypatch.setattr(json_stream, "CHUNK", chunk)
    for document in DOCUMENTS:
        for text in (json.dumps(document), json.dumps(document, indent=2), f"\n  {json.dumps(document)}  \n"):
            expected = document if isinstance(document, list) else [document]
            assert list(json_values(io.StringIO(text).read)) == expected
    lines = "\n".join(json.dumps(document) for document in DOCUMENTS[2:]) + "\n"
    flattened = [DOCUMENTS[2], DOCUMENTS[3], [1, 2], [3], DOCUMENTS[5]]
    assert list(json_values(io.StringIO(lines).read)) == flattened  # JSON Lines; arrays give their elements


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[{"a": 1},\n{"a": }]', 2),
        ('{"a": 1}\n{"a": 2}\n{"a"\n', 3),
        ('[{"a": 1}\n{"a": 2}]', 2),
        ("[1, 2", 1),
        ('{"a": "unterminated\n', 1),
    ],
)
def test_text_that_is_not_json_is_an_error_at_its_line(monkeypatch, chunk, text, line):
    monkeypatch.setattr(json_stream, "CHUNK", chunk)
    with pytest.raises(JSONStreamError) as raised:
        list(json_values(io.StringIO(text).read))
    assert raised.value.line == line


def test_values_before_an_error_are_yielded_first():
    values = json_values(io.StringIO('[{"a": 1}, {"b": 2}, oops]').read)
    assert next(values) == {"a": 1} and next(values) == {"b": 2}
    with pytest.raises(JSONStreamError):
        next(values)
