from django.core.management.base import BaseCommand

from apps.core.services.roles import roles_sync


class Command(BaseCommand):
    help = "Create the role groups and give each exactly the permissions of the role table (idempotent)."

    def handle(self, *args, **options):
        for role, count in roles_sync().items():
            self.stdout.write(f"{role}: {count} permissions")
