"""Django admin for campaigns, people, scripts and the contact record.

Built for a field director: search people by name, voter id or address; filter by party,
registration status, campaign and role; edit a script with its questions inline. Contact
attempts, derived scores and sync/audit rows are read-only here: contacts are append-only
(DESIGN.md §3) and scores are derived from them, never written by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypedDict, TypeVar

from django.contrib import admin
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest

from canvass.admin_generics import ModelAdmin, StackedInline, TabularInline
from canvass.models import (
    AuditEvent,
    Campaign,
    CampaignGoal,
    ContactAttempt,
    HouseholdResult,
    ImportRowIssue,
    ImportRun,
    Membership,
    Organization,
    Person,
    PersonCorrection,
    Question,
    ResponseOption,
    ResultCode,
    Script,
    SupporterScore,
    SyncLedgerEntry,
    Team,
    VolunteerSignup,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

_ModelT = TypeVar("_ModelT", bound=Model)


class _CampaignCount(TypedDict):
    _campaigns: int


class _MemberCount(TypedDict):
    _members: int


class _QuestionCount(TypedDict):
    _questions: int


class ReadOnlyAdmin(ModelAdmin[_ModelT], Generic[_ModelT]):
    """View-only: rows written by services (append-only or derived) are never edited here."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _ModelT | None = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(ModelAdmin[Organization]):
    list_display = ["name", "slug", "campaign_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).annotate(_campaigns=Count("campaigns"))

    @admin.display(description="campaigns", ordering="_campaigns")
    def campaign_count(self, obj: WithAnnotations[Organization, _CampaignCount]) -> int:
        return obj._campaigns


class MembershipInline(TabularInline[Membership, Campaign]):
    model = Membership
    fields = ["user", "role", "team"]
    raw_id_fields = ["user"]
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "team":
            # Only the teams of the campaign being edited.
            campaign_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Team.objects.filter(campaign_id=campaign_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TeamInline(TabularInline[Team, Campaign]):
    model = Team
    extra = 0


class CampaignGoalInline(TabularInline[CampaignGoal, Campaign]):
    model = CampaignGoal
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(ModelAdmin[Campaign]):
    list_display = ["name", "organization", "election_date", "member_count"]
    list_filter = ["organization"]
    search_fields = ["name", "slug", "organization__name"]
    list_select_related = ["organization"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamInline, MembershipInline, CampaignGoalInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj: WithAnnotations[Campaign, _MemberCount]) -> int:
        return obj._members


@admin.register(Team)
class TeamAdmin(ModelAdmin[Team]):
    list_display = ["name", "campaign"]
    list_filter = ["campaign"]
    search_fields = ["name", "campaign__name"]
    list_select_related = ["campaign"]


@admin.register(Membership)
class MembershipAdmin(ModelAdmin[Membership]):
    list_display = ["user", "campaign", "role", "team", "created_at"]
    list_filter = ["role", "campaign", "team"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user", "campaign", "team"]
    raw_id_fields = ["user"]


@admin.register(Person)
class PersonAdmin(ModelAdmin[Person]):
    list_display = [
        "last_name",
        "first_name",
        "external_voter_id",
        "party",
        "registration_status",
        "household",
        "phone",
        "year_of_birth",
    ]
    list_filter = ["party", "registration_status", "source", "is_deceased", "has_moved"]
    search_fields = [
        "first_name",
        "last_name",
        "external_voter_id",
        "email",
        "phone",
        "household__street",
        "household__house_number",
    ]
    list_select_related = ["household"]
    raw_id_fields = ["household"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False  # no COUNT(*) over millions of voters on every search


@admin.register(ResultCode)
class ResultCodeAdmin(ModelAdmin[ResultCode]):
    list_display = ["label", "code", "campaign", "is_contact", "is_final", "position", "is_active"]
    list_filter = ["campaign", "is_contact", "is_final", "is_active"]
    search_fields = ["code", "label"]
    list_select_related = ["campaign"]


class QuestionInline(StackedInline[Question, Script]):
    model = Question
    fk_name = "script"
    fields = ["position", "key", "prompt", "kind", "is_builtin", "show_if_question"]
    readonly_fields = ["is_builtin"]
    extra = 0
    show_change_link = True  # options are edited on the question's own page


@admin.register(Script)
class ScriptAdmin(ModelAdmin[Script]):
    list_display = ["name", "campaign", "is_active", "question_count", "updated_at"]
    list_filter = ["campaign", "is_active"]
    search_fields = ["name", "campaign__name"]
    list_select_related = ["campaign"]
    inlines = [QuestionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Script]:
        return super().get_queryset(request).annotate(_questions=Count("questions"))

    @admin.display(description="questions", ordering="_questions")
    def question_count(self, obj: WithAnnotations[Script, _QuestionCount]) -> int:
        return obj._questions


class ResponseOptionInline(TabularInline[ResponseOption, Question]):
    model = ResponseOption
    fields = ["position", "value", "label"]
    extra = 0


@admin.register(Question)
class QuestionAdmin(ModelAdmin[Question]):
    list_display = ["key", "script", "kind", "position", "is_builtin"]
    list_filter = ["kind", "is_builtin", "script__campaign"]
    search_fields = ["key", "prompt", "script__name"]
    list_select_related = ["script"]
    raw_id_fields = ["script", "show_if_question"]
    filter_horizontal = ["show_if_options"]
    readonly_fields = ["is_builtin"]
    inlines = [ResponseOptionInline]


@admin.register(ContactAttempt)
class ContactAttemptAdmin(ReadOnlyAdmin[ContactAttempt]):
    list_display = [
        "id",
        "campaign",
        "household",
        "person",
        "result_code",
        "supporter_id",
        "canvasser",
        "effective_time",
        "received_at",
        "clock_clamped",
    ]
    list_filter = ["campaign", "result_code__code", "supporter_id", "clock_clamped"]
    search_fields = [
        "=id",
        "household__street",
        "person__last_name",
        "person__external_voter_id",
        "canvasser__username",
        "device_id",
    ]
    list_select_related = ["campaign", "household", "person", "result_code", "canvasser"]
    raw_id_fields = ["turf", "household", "person", "canvasser"]
    date_hierarchy = "received_at"


@admin.register(SupporterScore)
class SupporterScoreAdmin(ReadOnlyAdmin[SupporterScore]):
    list_display = ["person", "campaign", "score", "effective_time", "updated_at"]
    list_filter = ["campaign", "score"]
    search_fields = ["person__last_name", "person__first_name", "person__external_voter_id"]
    list_select_related = ["person", "campaign"]
    raw_id_fields = ["person", "attempt"]


@admin.register(HouseholdResult)
class HouseholdResultAdmin(ReadOnlyAdmin[HouseholdResult]):
    list_display = [
        "household",
        "campaign",
        "result_code",
        "attempts",
        "ever_contacted",
        "is_final",
        "effective_time",
    ]
    list_filter = ["campaign", "is_final", "ever_contacted"]
    search_fields = ["household__street", "household__house_number", "household__address_key"]
    list_select_related = ["household", "campaign", "result_code"]
    raw_id_fields = ["household", "attempt"]


@admin.register(VolunteerSignup)
class VolunteerSignupAdmin(ModelAdmin[VolunteerSignup]):
    list_display = [
        "last_name",
        "first_name",
        "kind",
        "campaign",
        "email",
        "phone",
        "employer",
        "union",
        "created_at",
    ]
    list_filter = ["kind", "campaign", "industry"]
    search_fields = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "employer",
        "workplace",
        "union",
        "person__external_voter_id",
    ]
    list_select_related = ["campaign"]
    raw_id_fields = ["person", "household", "canvasser"]
    readonly_fields = ["phone_key", "created_at", "updated_at"]


@admin.register(PersonCorrection)
class PersonCorrectionAdmin(ReadOnlyAdmin[PersonCorrection]):
    list_display = ["person", "kind", "campaign", "canvasser", "received_at"]
    list_filter = ["kind", "campaign"]
    search_fields = ["person__last_name", "person__external_voter_id"]
    list_select_related = ["person", "campaign", "canvasser"]
    raw_id_fields = ["person", "canvasser"]


@admin.register(SyncLedgerEntry)
class SyncLedgerEntryAdmin(ReadOnlyAdmin[SyncLedgerEntry]):
    list_display = ["client_id", "kind", "campaign", "canvasser", "device_id", "received_at"]
    list_filter = ["kind", "campaign"]
    search_fields = ["=client_id", "=object_id", "device_id", "canvasser__username"]
    list_select_related = ["campaign", "canvasser"]


class ImportRowIssueInline(TabularInline[ImportRowIssue, ImportRun]):
    model = ImportRowIssue
    fields = ["row_number", "code", "message"]
    readonly_fields = ["row_number", "code", "message"]  # all of them
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin[ImportRun]):
    list_display = [
        "id",
        "kind",
        "status",
        "organization",
        "source_name",
        "total_rows",
        "created_count",
        "updated_count",
        "unmatched_count",
        "error_count",
        "started_at",
    ]
    list_filter = ["kind", "status", "organization"]
    search_fields = ["source_name", "preset"]
    list_select_related = ["organization"]
    inlines = [ImportRowIssueInline]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin[AuditEvent]):
    list_display = ["created_at", "action", "object_type", "object_id", "actor", "campaign"]
    list_filter = ["action", "object_type", "campaign"]
    search_fields = ["action", "object_type", "=object_id", "actor__username"]
    list_select_related = ["actor", "campaign"]
    date_hierarchy = "created_at"
