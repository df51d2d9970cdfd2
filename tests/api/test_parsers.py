"""The JSON parser's depth limit, at its boundary (the 5,000-deep body in test_core stops in
the decoder already)."""

from __future__ import annotations

import pytest

from api.parsers import _depth_exceeds


@pytest.mark.parametrize(
    ("value", "limit", "exceeds"),
    [
        (1, 0, True),
        ("x", 1, False),
        ({}, 1, False),
        ({"a": 1}, 1, True),
        ({"a": 1}, 2, False),
        ({"a": []}, 1, True),
        ({"a": [], "b": {}}, 2, False),
        ({"a": [1]}, 2, True),
        ([[[]]], 3, False),
        ([[[0]]], 3, True),
        ([[[0]]], 4, False),
        ({"items": [{"id": "x", "answers": {"q": [1]}}, {"id": "y"}]}, 5, True),
        ({"items": [{"id": "x", "answers": {"q": [1]}}, {"id": "y"}]}, 6, False),
        ({"items": [{"id": "y"}, {"gps": {}}, {"answers": {"q": [[]]}}]}, 5, True),
        ({"items": [{"id": "y"}, {"gps": {}}, {"answers": {"q": [[]]}}]}, 6, False),
    ],
)
def test_depth_is_counted_from_the_top_level_value(value, limit, exceeds):
    assert _depth_exceeds(value, limit) is exceeds
