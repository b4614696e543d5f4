"""Under concurrency the database keeps the rules: one acknowledgement, one open version, one publication."""

import threading

import pytest
from django.db import connection

from apps.core.exceptions import TransitionNotAllowed
from apps.sops import services
from apps.sops.models import Acknowledgement, SOPVersion

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    """Start every call at once, each on its own connection; return results and errors."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except Exception as exc:  # collected for the test to judge
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_double_click_on_i_have_read_this_records_one_acknowledgement(document, publish, associate):
    version = publish(document)
    results, errors = run_together(
        *[lambda: services.sop_version_acknowledge(version_id=version.pk, actor=associate) for _ in range(4)]
    )
    assert errors == []
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert Acknowledgement.objects.filter(version=version, user=associate).count() == 1


def test_two_people_starting_a_new_version_at_once_get_one_draft(document, publish, author, make_user):
    publish(document)
    colleague = make_user("sop_owner")
    results, errors = run_together(
        lambda: services.sop_version_create(document_id=document.pk, actor=author, change_summary="A"),
        lambda: services.sop_version_create(document_id=document.pk, actor=colleague, change_summary="B"),
    )
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], TransitionNotAllowed)
    assert SOPVersion.objects.filter(document=document, status=SOPVersion.Status.DRAFT).count() == 1


def test_two_reviewers_publishing_at_once_publish_once(in_review, reviewer, make_user):
    second_reviewer = make_user("sop_owner")
    results, errors = run_together(
        lambda: services.sop_version_publish(version_id=in_review.pk, actor=reviewer),
        lambda: services.sop_version_publish(version_id=in_review.pk, actor=second_reviewer),
    )
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], TransitionNotAllowed)
    version = SOPVersion.objects.get(pk=in_review.pk)
    assert version.status == SOPVersion.Status.PUBLISHED and version.published_by == results[0].published_by
