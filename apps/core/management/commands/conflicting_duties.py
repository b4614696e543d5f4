from django.core.management.base import BaseCommand

from apps.core.selectors import conflicting_duties


class Command(BaseCommand):
    help = (
        "List active users who could both keep vendor bank details and let money out (approve or schedule "
        "invoices, record payments, approve or process refunds). Exits 0 either way."
    )

    def handle(self, *args, **options):
        conflicts = conflicting_duties()
        if not conflicts:
            self.stdout.write("Nobody holds both duties.")
            return
        for row in conflicts:
            who = f"{row.username} (superuser)" if row.is_superuser else row.username
            self.stdout.write(who)
            self.stdout.write(f"  bank details: {'; '.join(row.bank_details)}")
            self.stdout.write(f"  payments:     {'; '.join(row.payments)}")
        self.stdout.write(f"{len(conflicts)} user(s) with conflicting duties.")
