from django.core.management.base import BaseCommand, CommandError

from apps.core.services.evidence import EvidencePackInvalid, evidence_pack_verify


class Command(BaseCommand):
    help = "Check an evidence pack against its manifest: every file present, none extra, every SHA-256 equal."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the evidence pack (.zip)")

    def handle(self, *args, file, **options):
        try:
            manifest = evidence_pack_verify(file)
        except EvidencePackInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"{file} does not match its manifest: {len(exc.problems)} problem(s).") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{file} is intact: {len(manifest['files'])} files match the manifest "
                f"({manifest.get('records', '?')} {manifest.get('target', 'records')} record(s))."
            )
        )
