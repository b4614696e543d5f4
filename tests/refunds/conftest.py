from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.refunds import services
from tests.refunds.factories import (
    ApproverLimitFactory,
    ChannelFactory,
    OrderFactory,
    PolicyFactory,
    ReasonCodeFactory,
)


@pytest.fixture
def setup(db):
    """Reference data: the web channel (30-day window), reason codes, the policy (threshold 500)."""
    ChannelFactory()
    ReasonCodeFactory()
    ReasonCodeFactory(code="fraud", label="Cardholder says fraudulent", case_type="chargeback")
    ReasonCodeFactory(code="goodwill", label="Goodwill", case_type="store_credit")
    ReasonCodeFactory(code="retired", label="No longer used", active=False)
    return PolicyFactory()


@pytest.fixture
def associate(make_user, setup):
    return make_user("associate")


@pytest.fixture
def associate2(make_user, setup):
    return make_user("associate")


@pytest.fixture
def approver(make_user, setup):
    user = make_user("approver")
    ApproverLimitFactory(user=user, max_amount=Decimal("1000.00"))
    return user


@pytest.fixture
def approver2(make_user, setup):
    user = make_user("approver")
    ApproverLimitFactory(user=user, max_amount=Decimal("5000.00"))
    return user


@pytest.fixture
def order(setup):
    return OrderFactory()


@pytest.fixture
def request_case(associate):
    """``request_case(order, amount="100.00", type="refund", **more)`` through the service."""

    def make(order, amount="100.00", type="refund", actor=None, **more):
        more.setdefault("reason_code", "fraud" if type == "chargeback" else "damaged")
        if type == "chargeback":
            more.setdefault("network", "visa")
            more.setdefault("network_reason_code", "10.4")
            more.setdefault("evidence_due_date", timezone.localdate() + timedelta(days=10))
        return services.case_request(actor=actor or associate, order_id=order.pk, type=type, amount=amount, **more)

    return make


@pytest.fixture
def approved_case(order, request_case, approver):
    case = request_case(order, "100.00")
    return services.case_approve(case_id=case.pk, actor=approver)
