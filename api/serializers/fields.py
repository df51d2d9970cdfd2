"""Serializer fields shared by the API's inputs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from canvass.access import MAX_ID


class IdField(serializers.IntegerField):
    """An object id sent by the client: a whole number from 1 to `MAX_ID`, else 400 `invalid`
    naming the field."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
