"""Serializers of the WatermelonDB sync endpoints (documentation and top-level shape).

The change sets themselves are validated by `canvass.sync.watermelon.changes_parse`, which
gives each failure a stable code (unknown_table, unknown_column, invalid_id, ...).
"""

from __future__ import annotations

from rest_framework import serializers

from canvass.sync.watermelon import COLUMNS, READ_ONLY_TABLES, TABLES


def _tables_help() -> str:
    lines = []
    for table in TABLES:
        mode = "read-only" if table in READ_ONLY_TABLES else "writable"
        lines.append(f"- `{table}` ({mode}): {', '.join(COLUMNS[table])}")
    return "\n".join(lines)


TABLES_HELP = _tables_help()


class WatermelonTableChangesOutput(serializers.Serializer):
    created = serializers.ListField(child=serializers.DictField())
    updated = serializers.ListField(child=serializers.DictField())
    deleted = serializers.ListField(child=serializers.CharField())


class WatermelonChangesOutput(serializers.Serializer):
    households = WatermelonTableChangesOutput()
    people = WatermelonTableChangesOutput()
    questions = WatermelonTableChangesOutput()
    response_options = WatermelonTableChangesOutput()
    result_codes = WatermelonTableChangesOutput()
    contacts = WatermelonTableChangesOutput()
    volunteer_signups = WatermelonTableChangesOutput()


class WatermelonPullOutput(serializers.Serializer):
    changes = WatermelonChangesOutput()
    timestamp = serializers.IntegerField(
        help_text="Milliseconds since the epoch; pass it back as last_pulled_at."
    )


class WatermelonPushInput(serializers.Serializer):
    changes = serializers.DictField(
        help_text="{table: {created: [records], updated: [records], deleted: [ids]}}"
    )
    last_pulled_at = serializers.IntegerField(
        required=False, help_text="The timestamp of the pull this push follows (ms)."
    )


class WatermelonPushOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    applied = serializers.DictField(child=serializers.IntegerField())
