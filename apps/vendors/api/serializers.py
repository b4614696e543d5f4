from django.contrib.auth import get_user_model
from rest_framework import serializers

from apps.vendors.models import (
    PerformanceReview,
    ReviewActionItem,
    ReviewCriterion,
    Vendor,
    VendorContact,
    VendorContract,
)

User = get_user_model()


class VendorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vendor
        fields = [
            "id",
            "code",
            "legal_name",
            "tax_id",
            "category",
            "status",
            "hold_reason",
            "hold_release_date",
            "payment_terms_days",
            "default_currency",
            "manager",
            "remit_to",
            "bank_account_holder",
            "bank_name",
            "bank_account_number",
            "bank_routing_code",
            "bank_details_pending",
            "bank_details_changed_by",
            "bank_details_changed_at",
            "bank_details_confirmed_by",
            "bank_details_confirmed_at",
            "latest_score",
            "latest_standing",
            "latest_review_end",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "hold_reason",
            "hold_release_date",
            "bank_details_pending",
            "bank_details_changed_by",
            "bank_details_changed_at",
            "bank_details_confirmed_by",
            "bank_details_confirmed_at",
            "latest_score",
            "latest_standing",
            "latest_review_end",
            "created_at",
            "updated_at",
        ]
        # Uniqueness and formats are checked by the service (one place for the rules).
        extra_kwargs = {"code": {"validators": []}}


class HoldSerializer(serializers.Serializer):
    reason = serializers.CharField()
    release_date = serializers.DateField(required=False, allow_null=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class VendorContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = VendorContact
        fields = ["id", "vendor", "name", "role", "email", "phone", "is_primary"]
        validators = []  # the primary switch is the service's job


class VendorContractSerializer(serializers.ModelSerializer):
    class Meta:
        model = VendorContract
        fields = [
            "id",
            "vendor",
            "reference",
            "title",
            "start_date",
            "end_date",
            "renewal_notice_days",
            "on_time_delivery_target",
            "invoice_accuracy_target",
            "defect_rate_target",
            "response_time_target_hours",
        ]
        validators = []


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewCriterion
        fields = ["id", "name", "kpi", "weight", "score", "proposed_score", "proposed_basis", "override_reason"]
        read_only_fields = ["id", "proposed_score", "proposed_basis"]
        # Ranges are the service's rules, reported together with the weights total.
        extra_kwargs = {"weight": {"validators": []}, "score": {"validators": []}}


class ActionItemSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))

    class Meta:
        model = ReviewActionItem
        fields = ["id", "description", "owner", "due_date", "done", "done_at"]
        read_only_fields = ["id", "done_at"]


class PerformanceReviewSerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, required=False)
    action_items = ActionItemSerializer(many=True, required=False)
    reviewer = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)

    class Meta:
        model = PerformanceReview
        fields = [
            "id",
            "vendor",
            "period_start",
            "period_end",
            "reviewer",
            "status",
            "comments",
            "overall_score",
            "standing",
            "finalized_by",
            "finalized_at",
            "supersedes",
            "sop_version",
            "criteria",
            "action_items",
        ]
        read_only_fields = [
            "status",
            "overall_score",
            "standing",
            "finalized_by",
            "finalized_at",
            "supersedes",
            "sop_version",
        ]


class PerformanceReviewUpdateSerializer(PerformanceReviewSerializer):
    class Meta(PerformanceReviewSerializer.Meta):
        read_only_fields = [*PerformanceReviewSerializer.Meta.read_only_fields, "vendor"]


class ScorecardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    vendor = serializers.IntegerField()
    code = serializers.CharField()
    legal_name = serializers.CharField()
    status = serializers.CharField()
    latest_score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    standing = serializers.CharField()
    latest_review_end = serializers.DateField(allow_null=True)


class ScorecardSerializer(serializers.Serializer):
    periods = serializers.ListField(child=serializers.CharField())
    period_ends = serializers.ListField(child=serializers.CharField())
    overall = serializers.ListField(child=serializers.CharField())
    standing = serializers.ListField(child=serializers.CharField())
    measures = serializers.ListField(child=serializers.DictField())
