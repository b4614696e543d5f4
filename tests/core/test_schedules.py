import json

from django_celery_beat.models import PeriodicTask

from apps.core.schedules import install_defaults


def test_default_schedules_exist_after_migrate(db):
    task = PeriodicTask.objects.get(name="Daily reminder digests")
    assert task.task == "apps.core.tasks.send_reminder_digests"
    assert task.enabled
    assert task.crontab.hour == "7" and task.crontab.minute == "0"


def test_edits_made_in_the_admin_survive_reinstalling_defaults(db):
    task = PeriodicTask.objects.get(name="Daily reminder digests")
    task.enabled = False
    task.kwargs = json.dumps({"day": "2026-01-01"})
    task.save()

    assert install_defaults() == []

    task.refresh_from_db()
    assert task.enabled is False
    assert json.loads(task.kwargs) == {"day": "2026-01-01"}


def test_a_deleted_default_comes_back(db):
    PeriodicTask.objects.filter(name="Daily reminder digests").delete()
    assert install_defaults() == ["Daily reminder digests"]


def test_schedules_are_editable_by_administrators_in_the_admin(client, make_user):
    client.force_login(make_user("administrator"))
    task = PeriodicTask.objects.get(name="Daily reminder digests")
    page = client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' in page.content
