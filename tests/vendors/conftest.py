import pytest


@pytest.fixture
def manager(make_user):
    return make_user("vendor_manager")


@pytest.fixture
def approver(make_user):
    return make_user("approver")
