"""HTTP-side access helpers. The rules themselves live in canvass.access."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rest_framework.request import Request

from canvass.access import ALL_ROLES, STAFF_ROLES, membership_require
from canvass.models import Membership, Role

DIRECTOR_ONLY = frozenset({Role.DIRECTOR})
STAFF = STAFF_ROLES
EVERYONE = ALL_ROLES


class CampaignScopedMixin:
    """For views under /api/campaigns/{campaign_id}/...: resolves the caller's membership.

    Set `allowed_roles` on the view (per method via `roles_by_method` if needed).
    """

    allowed_roles: Collection[str] = ALL_ROLES
    roles_by_method: dict[str, Collection[str]] = {}
    request: Request
    kwargs: dict[str, Any]

    def get_membership(self) -> Membership:
        cached: Membership | None = getattr(self, "_membership", None)
        if cached is not None:
            return cached
        roles = self.roles_by_method.get(self.request.method or "GET", self.allowed_roles)
        membership = membership_require(
            user=self.request.user, campaign_id=self.kwargs["campaign_id"], roles=roles
        )
        self._membership = membership
        return membership
