"""Tenancy, people, scripts, result codes, contacts and the sync ledger.

Tenancy (DESIGN.md §2): an Organization owns the voter universe (districts, households,
people); each Campaign of it owns turfs, scripts, result codes, contact attempts, supporter
scores, sign-ups and goals. Roles are granted per campaign through Membership.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="campaigns"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    election_date = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)
    # Voter-data sharing rules: canvassers see phone/party only where the campaign allows.
    show_phone_to_canvassers = models.BooleanField(default=False)
    show_party_to_canvassers = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"], name="campaign_slug_unique_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    DIRECTOR = "director", "Field director"
    ORGANIZER = "organizer", "Organizer / team lead"
    CANVASSER = "canvasser", "Canvasser"
    VIEWER = "viewer", "Candidate / viewer"


class Team(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="team_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "user"], name="membership_unique_per_campaign"
            )
        ]
        indexes = [models.Index(fields=["user", "campaign"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.campaign}"


class GoalMetric(models.TextChoices):
    DOORS_KNOCKED = "doors_knocked", "Doors knocked"
    CONTACTS = "contacts", "Contacts"
    VOTER_REGISTRATIONS = "voter_registrations", "Voter registrations"
    SIGNUPS = "signups", "Sign-ups"


class CampaignGoal(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="goals")
    metric = models.CharField(max_length=32, choices=GoalMetric.choices)
    target = models.PositiveIntegerField()
    due_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "metric"], name="goal_unique_metric")
        ]

    def __str__(self) -> str:
        return f"{self.metric}: {self.target}"


class Party(models.TextChoices):
    # Massachusetts designations; "workers" stands for a minor party's own designation.
    UNENROLLED = "U", "Unenrolled"
    DEMOCRATIC = "D", "Democratic"
    REPUBLICAN = "R", "Republican"
    LIBERTARIAN = "L", "Libertarian"
    GREEN_RAINBOW = "J", "Green-Rainbow"
    WORKERS = "W", "Workers"
    OTHER = "O", "Other designation"


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    INACTIVE = "inactive", "Inactive"
    UNREGISTERED = "unregistered", "Not registered"
    PENDING = "pending", "Registration submitted"


class PersonSource(models.TextChoices):
    VOTER_FILE = "voter_file", "Voter file"
    DOOR = "door", "Added at the door"
    MANUAL = "manual", "Added by staff"


class PersonQuerySet(models.QuerySet["Person"]):
    def in_organization(self, organization_id: int) -> PersonQuerySet:
        return self.filter(organization_id=organization_id)


class Person(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="people")
    household = models.ForeignKey(
        "turf.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    external_voter_id = models.CharField(max_length=64, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    suffix = models.CharField(max_length=20, blank=True)
    sex = models.CharField(max_length=8, blank=True)
    year_of_birth = models.PositiveSmallIntegerField(null=True, blank=True)
    party = models.CharField(max_length=2, choices=Party.choices, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=32, blank=True)
    registration_status = models.CharField(
        max_length=16, choices=RegistrationStatus.choices, default=RegistrationStatus.REGISTERED
    )
    is_deceased = models.BooleanField(default=False)
    has_moved = models.BooleanField(default=False)
    source = models.CharField(
        max_length=16, choices=PersonSource.choices, default=PersonSource.VOTER_FILE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_voter_id"],
                condition=~Q(external_voter_id=""),
                name="person_external_id_unique_per_org",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "last_name", "first_name"]),
            models.Index(fields=["organization", "party"]),
            # The partial unique constraint is not used by planners for long IN lists (imports
            # and sync look voters up in batches of thousands), so a plain index backs them.
            models.Index(fields=["organization", "external_voter_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or f"person {self.pk}"


class ResultCode(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="result_codes")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=80)
    is_contact = models.BooleanField(help_text="Someone answered: counts as a contact.")
    is_final = models.BooleanField(help_text="Never revisit this door in this campaign.")
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["campaign", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="result_code_unique")
        ]

    def __str__(self) -> str:
        return self.label


class Script(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="scripts")
    name = models.CharField(max_length=200)
    introduction = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "-is_active", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign"],
                condition=Q(is_active=True),
                name="one_active_script_per_campaign",
            )
        ]

    def __str__(self) -> str:
        return self.name


class QuestionKind(models.TextChoices):
    SUPPORTER_ID = "supporter_id", "Supporter ID (1-5)"
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    YES_NO = "yes_no", "Yes / no"
    TEXT = "text", "Free text"


class Question(models.Model):
    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=60)
    prompt = models.TextField()
    kind = models.CharField(max_length=16, choices=QuestionKind.choices)
    position = models.PositiveSmallIntegerField(default=0)
    is_builtin = models.BooleanField(default=False)
    # Branching: shown only if `show_if_question` was answered with one of `show_if_options`.
    show_if_question = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="dependents"
    )
    # Annotated because the target is a forward reference (django-stubs cannot infer it); the
    # through model is auto-created, so it has no name to write here.
    show_if_options: models.ManyToManyField[ResponseOption, Any] = models.ManyToManyField(
        "ResponseOption", blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["script", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["script", "key"], name="question_key_unique")
        ]

    def __str__(self) -> str:
        return self.key


class ResponseOption(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    value = models.CharField(max_length=60)
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["question", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "value"], name="option_value_unique")
        ]

    def __str__(self) -> str:
        return self.label


class ContactAttempt(models.Model):
    """One knock, recorded on a device. Append-only: never updated in place.

    The primary key is the client-generated UUID, so a retried upload can never insert twice.
    """

    id = models.UUIDField(primary_key=True)
    # No single-column index on the foreign keys but result_code (db_index=False, as on the
    # other tables the batch push writes): each index is one more insert per knock
    # (bench/README.md ## Sync), and the composite indexes in Meta start with them. Household,
    # person and canvasser lead their composites (then campaign), so one index serves both the
    # per-campaign reads and the lookups by that key alone (a person's erasure, the deletion
    # collector); the per-campaign scans use (campaign, received_at).
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="contact_attempts", db_index=False
    )
    turf = models.ForeignKey(
        "turf.Turf",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    household = models.ForeignKey(
        "turf.Household",
        on_delete=models.PROTECT,
        related_name="contact_attempts",
        db_index=False,
    )
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_attempts",
        db_index=False,
    )
    canvasser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    device_id = models.CharField(max_length=100)
    result_code = models.ForeignKey(ResultCode, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict, blank=True)
    supporter_id = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    device_time = models.DateTimeField()
    # device_time clamped to received_at when the device clock ran ahead (DESIGN.md §3).
    effective_time = models.DateTimeField()
    clock_clamped = models.BooleanField(default=False)
    gps_lon = models.FloatField(null=True, blank=True)
    gps_lat = models.FloatField(null=True, blank=True)
    gps_accuracy_m = models.FloatField(null=True, blank=True)
    # Indexed by (campaign, received_at) below: every read of it is within one campaign.
    received_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["campaign", "effective_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(supporter_id__isnull=True)
                | Q(supporter_id__gte=1, supporter_id__lte=5),
                name="contact_supporter_id_1_to_5",
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "received_at"]),
            models.Index(fields=["household", "campaign", "effective_time"]),
            models.Index(fields=["person", "campaign", "effective_time"]),
            models.Index(fields=["canvasser", "campaign", "effective_time"]),
            models.Index(fields=["turf", "effective_time"]),
        ]

    def __str__(self) -> str:
        return str(self.id)


# The two derived tables below (one row per person / per door, rebuilt from the attempts by
# `canvass.sync.merge`) carry no database foreign-key constraints (`db_constraint=False`): every
# reference in them is copied, in the statement that writes them, from a contact attempt whose
# own constraints the database has just checked, so their checks proved nothing new and were the
# largest part of a batch push's commit (~700 deferred checks per 100 knocks, ~1.5 ms of
# database CPU: bench/README.md ## Sync). `on_delete` still applies: Django's deletion collector
# cascades (or protects) through these relations as before.
# Nor do they index the columns a newer knock rewrites (attempt, result code, score): a row whose
# indexed columns stay the same is updated in place (a PostgreSQL HOT update), with no index
# writes at all, where each such index cost one insert per row and forced a new entry in every
# other index too. What loses an index: deleting an attempt (never done: attempts are
# append-only) or a result code (a director's rare clean-up) scans these tables.


class SupporterScore(models.Model):
    """A person's current 1-5 score in a campaign, derived from contact attempts only."""

    # Indexed by supporter_score_unique (campaign, person).
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="supporter_scores",
        db_index=False,
        db_constraint=False,
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="supporter_scores", db_constraint=False
    )
    score = models.PositiveSmallIntegerField()
    attempt = models.ForeignKey(
        ContactAttempt,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    effective_time = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "person"], name="supporter_score_unique"),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="supporter_score_1_to_5"
            ),
        ]


class HouseholdResult(models.Model):
    """The latest knock at a door in a campaign (by effective time), kept for packets and re-cuts."""

    # Indexed by household_result_unique (campaign, household).
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="household_results",
        db_index=False,
        db_constraint=False,
    )
    household = models.ForeignKey(
        "turf.Household", on_delete=models.CASCADE, related_name="results", db_constraint=False
    )
    attempt = models.ForeignKey(
        ContactAttempt,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    result_code = models.ForeignKey(
        ResultCode, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    effective_time = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=1)
    ever_contacted = models.BooleanField(default=False)
    is_final = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"], name="household_result_unique"
            )
        ]


class SignupKind(models.TextChoices):
    VOLUNTEER = "volunteer", "Volunteer"
    MEMBER = "member", "Member"
    SUPPORTER = "supporter", "Supporter"


class VolunteerSignup(models.Model):
    """A sign-up at the door or online; deduplicated per campaign by person, email or phone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="signups")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="signups"
    )
    household = models.ForeignKey(
        "turf.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=SignupKind.choices)
    interests = models.JSONField(default=list, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    # Normalized digits of `phone`, for deduplication.
    phone_key = models.CharField(max_length=20, blank=True, db_index=True)
    availability = models.JSONField(default=dict, blank=True)
    workplace = models.CharField(max_length=200, blank=True)
    employer = models.CharField(max_length=200, blank=True)
    union = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=120, blank=True)
    notes = models.TextField(blank=True)
    canvasser = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["campaign", "-created_at"]
        indexes = [
            models.Index(fields=["campaign", "email"]),
            models.Index(fields=["campaign", "phone_key"]),
            models.Index(fields=["campaign", "person"]),
        ]


class CorrectionKind(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    MOVED = "moved", "Moved away"
    DECEASED = "deceased", "Deceased"
    LANGUAGE = "language", "Language"
    NAME = "name", "Name"


class PersonCorrection(models.Model):
    """Audit trail of corrections reported from the door; applied by documented rules."""

    id = models.UUIDField(primary_key=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="corrections")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(max_length=16, choices=CorrectionKind.choices)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    canvasser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    device_id = models.CharField(max_length=100)
    device_time = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at"]


class SyncItemKind(models.TextChoices):
    CONTACT = "contact", "Contact attempt"
    SIGNUP = "signup", "Volunteer sign-up"
    NEW_PERSON = "new_person", "New person"
    CORRECTION = "correction", "Person correction"


class SyncLedgerEntry(models.Model):
    """Idempotency ledger: one row per client-generated item id ever accepted.

    The primary key is the client UUID, so a retried item is detected by the database, not by
    a check-then-insert race. `content_hash` decides `duplicate` (same content) versus
    `id_conflict` (same id, different content).
    """

    client_id = models.UUIDField(primary_key=True)
    # No database FK constraints on campaign and canvasser (`db_constraint=False`), as on the
    # derived rows above: a ledger row is written in the transaction that stores its item, and
    # the item's own new row (an attempt, a correction, a new sign-up) carries the same campaign
    # and canvasser under FK constraints, so for a batch of knocks the ledger's checks proved
    # nothing new: 200 deferred checks per 100 knocks, ~1 ms of database CPU
    # (bench/README.md ## Sync). A new person, or a sign-up merged into an earlier one, names
    # the campaign and canvasser that transaction just read. `on_delete` still applies through
    # Django's deletion collector (tested).
    # Indexed by (campaign, received_at) below.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=16, choices=SyncItemKind.choices)
    content_hash = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    canvasser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    device_id = models.CharField(max_length=100)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "received_at"]),
            # The WatermelonDB pull finds device-created people and sign-ups by object id. Only
            # those kinds are ever looked up that way, so contacts (most rows) stay out of it.
            models.Index(
                fields=["kind", "object_id"],
                name="ledger_kind_object_idx",
                condition=Q(kind__in=[SyncItemKind.NEW_PERSON, SyncItemKind.SIGNUP]),
            ),
        ]


class ImportKind(models.TextChoices):
    DISTRICTS = "districts", "Districts"
    DOORS = "doors", "Address points"
    VOTERS = "voters", "Voter file"
    LAYER = "layer", "Map layer"


class ImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportRun(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="imports")
    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    source_name = models.CharField(max_length=255, blank=True)
    preset = models.CharField(max_length=40, blank=True)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    total_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    unmatched_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} ({self.status})"


class ImportRowIssue(models.Model):
    """A row an import could not use (unmatched address, invalid value), kept for download."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="issues")
    row_number = models.PositiveIntegerField()
    code = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "row_number"]


class AuditEvent(models.Model):
    """Who changed what: written by services in the same transaction as the change."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
