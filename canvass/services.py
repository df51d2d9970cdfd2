"""Write services for tenancy, campaigns, roles, scripts and result codes.

Every service is keyword-only, runs in one explicit transaction, validates with full_clean()
and records an AuditEvent for state changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify

from canvass.models import (
    AuditEvent,
    Campaign,
    CampaignGoal,
    Membership,
    Organization,
    Question,
    QuestionKind,
    ResponseOption,
    ResultCode,
    Role,
    Script,
    Team,
)

# (code, label, is_contact, is_final): DESIGN.md §3 defaults.
DEFAULT_RESULT_CODES: tuple[tuple[str, str, bool, bool], ...] = (
    ("canvassed", "Canvassed", True, True),
    ("not_home", "Not Home", False, False),
    ("refused", "Refused", True, True),
    ("moved", "Moved", False, True),
    ("deceased", "Deceased", False, True),
    ("inaccessible", "Inaccessible", False, False),
    ("language_barrier", "Language Barrier", True, False),
    ("wrong_address", "Wrong Address", False, True),
    ("come_back_later", "Come Back Later", True, False),
    ("hostile", "Hostile", True, True),
)

SUPPORTER_ID_QUESTION_KEY = "supporter_id"
SUPPORTER_ID_OPTIONS: tuple[tuple[str, str], ...] = (
    ("1", "Strong support"),
    ("2", "Lean support"),
    ("3", "Undecided"),
    ("4", "Lean oppose"),
    ("5", "Strong oppose"),
)


def audit_record(
    *,
    organization_id: int,
    action: str,
    obj: Any,
    actor: AbstractBaseUser | None = None,
    campaign_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        organization_id=organization_id,
        campaign_id=campaign_id,
        # By id, like `created_by` in turf.services: `actor` is typed as the abstract user
        # (request.user), the foreign key as the concrete user model.
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=type(obj).__name__,
        object_id=str(getattr(obj, "pk", obj)),
        data=data or {},
    )


@transaction.atomic
def organization_create(*, name: str, slug: str | None = None) -> Organization:
    org = Organization(name=name, slug=slug or slugify(name)[:80])
    org.full_clean()
    org.save()
    return org


@transaction.atomic
def campaign_create(
    *,
    organization: Organization,
    name: str,
    slug: str | None = None,
    election_date: date | None = None,
    description: str = "",
    goals: dict[str, int] | None = None,
    actor: AbstractBaseUser | None = None,
) -> Campaign:
    """Create a campaign with the default result codes and a script holding the built-in
    supporter ID question (1 strong support ... 5 strong oppose)."""
    campaign = Campaign(
        organization=organization,
        name=name,
        slug=slug or slugify(name)[:80],
        election_date=election_date,
        description=description,
    )
    campaign.full_clean()
    campaign.save()
    result_codes_seed_defaults(campaign=campaign)
    script_create(campaign=campaign, name=f"{name} door script")
    for metric, target in (goals or {}).items():
        goal = CampaignGoal(campaign=campaign, metric=metric, target=target)
        goal.full_clean()
        goal.save()
    audit_record(
        organization_id=organization.pk,
        campaign_id=campaign.pk,
        action="campaign.create",
        obj=campaign,
        actor=actor,
    )
    return campaign


def result_codes_seed_defaults(*, campaign: Campaign) -> list[ResultCode]:
    return ResultCode.objects.bulk_create(
        [
            ResultCode(
                campaign=campaign,
                code=code,
                label=label,
                is_contact=contact,
                is_final=final,
                position=i,
            )
            for i, (code, label, contact, final) in enumerate(DEFAULT_RESULT_CODES)
        ]
    )


@transaction.atomic
def script_create(
    *,
    campaign: Campaign,
    name: str,
    introduction: str = "",
    questions: Iterable[dict[str, Any]] = (),
) -> Script:
    """Create the campaign's active script (deactivating the previous one), always starting
    with the built-in supporter ID question.

    `questions`: dicts with key, prompt, kind, options [(value, label)], and optionally
    show_if: {"question": key, "options": [values]} referring to an earlier question.
    """
    Script.objects.filter(campaign=campaign, is_active=True).update(is_active=False)
    script = Script(campaign=campaign, name=name, introduction=introduction, is_active=True)
    script.full_clean()
    script.save()
    supporter = Question.objects.create(
        script=script,
        key=SUPPORTER_ID_QUESTION_KEY,
        prompt="On a scale of 1 to 5, where 1 is strong support and 5 strong opposition, where do you stand?",
        kind=QuestionKind.SUPPORTER_ID,
        position=0,
        is_builtin=True,
    )
    ResponseOption.objects.bulk_create(
        [
            ResponseOption(question=supporter, value=v, label=lbl, position=i)
            for i, (v, lbl) in enumerate(SUPPORTER_ID_OPTIONS)
        ]
    )
    by_key: dict[str, Question] = {supporter.key: supporter}
    for position, spec in enumerate(questions, start=1):
        question = Question(
            script=script,
            key=spec["key"],
            prompt=spec["prompt"],
            kind=spec["kind"],
            position=position,
        )
        show_if = spec.get("show_if")
        if show_if:
            parent = by_key.get(show_if["question"])
            if parent is None:
                from canvass.errors import InvalidInput

                raise InvalidInput(
                    f"Question {spec['key']!r} depends on {show_if['question']!r}, which is not an earlier question.",
                    fields={"questions": [f"unknown show_if question {show_if['question']!r}"]},
                )
            question.show_if_question = parent
        question.full_clean()
        question.save()
        ResponseOption.objects.bulk_create(
            [
                ResponseOption(question=question, value=str(v), label=lbl, position=i)
                for i, (v, lbl) in enumerate(spec.get("options", ()))
            ]
        )
        if show_if:
            opts = list(
                ResponseOption.objects.filter(
                    question=question.show_if_question,
                    value__in=[str(v) for v in show_if["options"]],
                )
            )
            question.show_if_options.set(opts)
        by_key[question.key] = question
    return script


@transaction.atomic
def membership_grant(
    *,
    campaign: Campaign,
    user: AbstractBaseUser,
    role: str,
    team: Team | None = None,
    actor: AbstractBaseUser | None = None,
) -> Membership:
    """Grant (or change) a user's role in a campaign."""
    membership, _ = Membership.objects.update_or_create(
        campaign=campaign, user=user, defaults={"role": role, "team": team}
    )
    membership.full_clean()
    audit_record(
        organization_id=campaign.organization_id,
        campaign_id=campaign.pk,
        action="membership.grant",
        obj=membership,
        actor=actor,
        data={"user": user.pk, "role": role},
    )
    return membership


__all__ = [
    "DEFAULT_RESULT_CODES",
    "Role",
    "audit_record",
    "campaign_create",
    "membership_grant",
    "organization_create",
    "result_codes_seed_defaults",
    "script_create",
]
