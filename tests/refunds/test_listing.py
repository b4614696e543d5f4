"""The case list reads the columns its serializer's fields name, and no others."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from apps.refunds.api.listing import CASE_FIELD_READS, case_list_columns
from apps.refunds.api.serializers import PayoutSerializer, RefundCaseSerializer
from apps.refunds.api.views import RefundCaseViewSet


def list_with(**fields):
    """A case list whose serializer shows ``fields`` besides the usual ones."""
    serializer_class = type("ExtendedCaseSerializer", (RefundCaseSerializer,), dict(fields))
    serializer_class.Meta = type(
        "Meta", (RefundCaseSerializer.Meta,), {"fields": [*RefundCaseSerializer.Meta.fields, *fields]}
    )
    return type("ExtendedCaseViewSet", (RefundCaseViewSet,), {"serializer_class": serializer_class})


def shown_sources(serializer, prefix=""):
    """``(field, source path)`` for each field a case shows; nested lists are read by the list's loaders."""
    for field in serializer.fields.values():
        if isinstance(field, serializers.ListSerializer):
            continue
        if prefix + field.field_name == "payout":
            yield from shown_sources(PayoutSerializer(), "payout__")
        elif prefix + field.field_name not in CASE_FIELD_READS:
            yield field, prefix + "__".join(field.source_attrs)


def test_every_field_the_case_list_shows_is_read_with_the_page():
    columns = case_list_columns(RefundCaseViewSet)

    for field, source in shown_sources(RefundCaseSerializer()):
        if isinstance(field, serializers.SlugRelatedField) and source in RefundCaseViewSet.list_select_related:
            assert f"{source}__{field.slug_field}" in columns, source  # through the join
        else:
            assert source in columns, source  # a column, or the foreign key of what is read for the page at once
    assert {"status", "due_date", "processed_at"} <= set(columns)  # what over_sla is worked out from
    assert {"id", *RefundCaseViewSet.ordering_fields} <= set(columns)  # what the cursor may order by


def test_the_case_list_reads_only_what_it_shows():
    columns = case_list_columns(RefundCaseViewSet)

    assert "external_reference" not in columns and "order__customer_email" not in columns
    assert not {column.split("__")[0] for column in columns} & {"approvals", "return_lines", "attachments"}
    assert len(columns) == len(set(columns))


def test_a_field_added_to_the_case_serializer_is_read_by_the_list():
    view = list_with(
        external_reference=serializers.CharField(read_only=True),
        customer_email=serializers.CharField(source="order.customer_email", read_only=True),
    )

    columns = case_list_columns(view)

    assert {"external_reference", "order__customer_email"} <= set(columns)
    assert set(case_list_columns(RefundCaseViewSet)) < set(columns)


@pytest.mark.parametrize(
    "field, message",
    [
        (serializers.BooleanField(read_only=True, source="is_open"), "is_open is not a column of RefundCase"),
        (serializers.SerializerMethodField(), "is not a column: say in CASE_FIELD_READS"),
        (
            serializers.SlugRelatedField(source="order.channel", slug_field="code", read_only=True),
            "shows order__channel, which the case list neither joins",
        ),
    ],
)
def test_a_field_the_list_cannot_read_by_a_column_is_an_error_naming_it(field, message):
    view = list_with(extra=field)
    if isinstance(field, serializers.SerializerMethodField):
        view.serializer_class.get_extra = lambda self, obj: None

    with pytest.raises(ImproperlyConfigured, match=message) as error:
        case_list_columns(view)

    assert "ExtendedCaseSerializer.extra" in str(error.value)
