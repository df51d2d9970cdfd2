"""Token authentication, as DRF's, from one raw statement.

Every API request authenticates: DRF's `Token.objects.select_related("user").get(key=...)`
costs ~0.5 ms of CPU to build and compile on the bench machine for a sub-0.1 ms lookup
(bench/README.md ## Sync). Same query, same answers and messages.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from canvass.rows import RowModel, prepared_cursor

_TOKEN = RowModel(Token, "t")
_USER = RowModel(get_user_model(), "u")
_SQL = (
    f"SELECT {_TOKEN.select}, {_USER.select} FROM {Token._meta.db_table} t "
    f"JOIN {get_user_model()._meta.db_table} u ON u.id = t.user_id WHERE t.key = %s"
)


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        with prepared_cursor() as cursor:
            cursor.execute(_SQL, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = _TOKEN.build(row)
        user = _USER.build(row, _TOKEN.width)
        token.user = user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token
