"""Production settings refuse to start without their secrets and pass Django's deploy check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {"DJANGO_ENV": "production", "OPSPORTAL_VAR_DIR": "/tmp/opsportal-settings-test"}
SECRET = "k" * 20 + "-Q7v9x2LmZ4pR8sT1wY6uE3oI5aS0dF-" + "z" * 20


@pytest.mark.parametrize(
    "env, missing",
    [
        ({"DJANGO_ALLOWED_HOSTS": "portal.example.com"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": SECRET}, "DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(env, missing):
    result = run_manage("check", **PRODUCTION, **env)
    assert result.returncode != 0
    assert f"{missing} is required when DJANGO_ENV=production" in result.stderr


def test_production_passes_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="portal.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_unknown_environment_is_refused():
    result = run_manage("check", DJANGO_ENV="staging")
    assert result.returncode != 0
    assert "DJANGO_ENV must be development, production or test" in result.stderr


def test_time_is_stored_in_utc_and_shown_in_the_display_zone(settings):
    assert settings.USE_TZ is True
    result = run_manage(
        "shell", "-c", "from django.conf import settings; print(settings.TIME_ZONE)", DISPLAY_TIME_ZONE="Europe/Berlin"
    )
    assert result.stdout.strip().splitlines()[-1] == "Europe/Berlin"
