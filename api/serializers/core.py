from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from canvass.models import Campaign, CampaignGoal, Membership


class TokenObtainInput(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenObtainOutput(serializers.Serializer):
    token = serializers.CharField()
    user_id = serializers.IntegerField()
    username = serializers.CharField()


class MembershipOutput(serializers.ModelSerializer):
    campaign_id = serializers.IntegerField()
    campaign_name = serializers.CharField(source="campaign.name")
    team = serializers.CharField(source="team.name", default=None, allow_null=True)

    class Meta:
        model = Membership
        fields = ["campaign_id", "campaign_name", "role", "team"]


class MeOutput(serializers.ModelSerializer):
    memberships = MembershipOutput(many=True)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "memberships"]


class CampaignGoalOutput(serializers.ModelSerializer):
    class Meta:
        model = CampaignGoal
        fields = ["metric", "target", "due_date"]


class CampaignOutput(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name")
    goals = CampaignGoalOutput(many=True)
    my_role = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "slug",
            "organization",
            "election_date",
            "description",
            "show_phone_to_canvassers",
            "show_party_to_canvassers",
            "goals",
            "my_role",
        ]

    def get_my_role(self, obj: Campaign) -> str | None:
        roles: dict[int, str] = self.context.get("roles", {})
        return roles.get(obj.pk)
