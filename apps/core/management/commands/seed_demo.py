import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.services.demo import DEMO_USERS, demo_seed


class Command(BaseCommand):
    help = (
        "Create the demo users (one per role) and demo records (idempotent). Passwords come from "
        "DEMO_PASSWORD or --password; otherwise one is generated and printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for every demo user (default: $DEMO_PASSWORD).")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the database already has users.")

    def handle(self, *args, password=None, if_empty=False, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo data is not for production (DJANGO_ENV=production).")
        from django.contrib.auth import get_user_model

        if if_empty and get_user_model().objects.exists():
            self.stdout.write("The database already has users: demo data left as it is.")
            return
        import os

        password = password or os.environ.get("DEMO_PASSWORD") or ""
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        created = demo_seed(password=password)
        if created and generated:
            _store_generated_password(password)
        if created:
            self.stdout.write(f"Created demo users: {', '.join(created)}")
            if generated:
                self.stdout.write(f"Generated password for the new demo users: {password}")
        else:
            self.stdout.write(f"Demo users already exist: {', '.join(username for username, _ in DEMO_USERS)}")


def _store_generated_password(password: str) -> None:
    """Keep a generated demo password (readable by this user only) so that ``runportal`` can show it."""
    path = settings.VAR_DIR / "demo-password"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(password + "\n")
