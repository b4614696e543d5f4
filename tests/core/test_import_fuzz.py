"""
Malformed files through the whole import pipeline: every one fails as a whole, with a message.

The corpus (``tests/core/fuzz_corpus.py``) is generated from a fixed seed: a slice of it runs with
every test run, all of it (1,200 files) with ``FUZZ_FULL=1`` (``make test-full``). For each file the
vendor and contact tables must be exactly as before, and the job must say why it failed — no file
may end in an unhandled exception.
"""

import csv
import hashlib
import io
import os

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import ImportJob
from apps.core.services.imports import import_job_create, import_job_run
from apps.vendors.models import Vendor, VendorContact
from tests.core import fuzz_corpus
from tests.vendors.factories import VendorFactory

FILES = 1200 if os.environ.get("FUZZ_FULL") else 100
SEED = 20261123


def tables_checksum() -> str:
    """A digest of every row of the import targets' tables."""
    digest = hashlib.sha256()
    for model in (Vendor, VendorContact):
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    return digest.hexdigest()


def unclear_messages(job) -> list[str]:
    """Messages that speak Python rather than say what is wrong: blank ones, class names, tracebacks."""
    messages = [job.message]
    if job.error_report:
        with job.error_report.open("rb") as report:
            messages += [row["message"] for row in csv.DictReader(io.StringIO(report.read().decode("utf-8")))]
    return [
        m for m in messages if not m.strip() or any(token in m for token in ("<class ", "Traceback", "object at 0x"))
    ]


@pytest.fixture
def import_limits(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.IMPORT_MAX_ROWS = fuzz_corpus.MAX_ROWS
    settings.IMPORT_MAX_COLUMNS = fuzz_corpus.MAX_COLUMNS


@pytest.mark.fuzz
@pytest.mark.django_db
def test_every_malformed_file_fails_whole_with_a_message(make_user, import_limits):
    manager = make_user("vendor_manager")
    vendor_codes = [VendorFactory(code=f"FZV-{n}").code for n in range(3)]
    baseline = tables_checksum()
    outcomes = {"job failed": 0, "refused on upload": 0}
    problems = []
    for file in fuzz_corpus.corpus(FILES, seed=SEED, vendor_codes=vendor_codes):
        where = f"{file.name} ({file.defect})"
        try:
            job = import_job_create(
                actor=manager,
                target=file.target,
                uploaded_file=SimpleUploadedFile(file.name, file.content),
                dry_run=False,
                encoding=file.encoding,
            )
        except ValidationError as exc:
            assert exc.messages and all(message.strip() for message in exc.messages), where
            outcomes["refused on upload"] += 1
        else:
            import_job_run(job_id=job.pk)
            job.refresh_from_db()
            if job.status != ImportJob.Status.FAILED:
                problems.append(f"{where}: {job.status} — {job.message}")
            elif not job.message.strip():
                problems.append(f"{where}: failed without a message")
            elif unclear := unclear_messages(job):
                problems.append(f"{where}: unclear messages {unclear}")
            else:
                outcomes["job failed"] += 1
        if tables_checksum() != baseline:
            problems.append(f"{where}: rows were written")
            baseline = tables_checksum()
    assert problems == [], "\n".join(problems[:50])
    assert sum(outcomes.values()) == FILES
    assert outcomes["job failed"] > FILES // 2  # most files reach the worker's part


@pytest.mark.fuzz
def test_the_corpus_is_the_same_for_the_same_seed():
    first = [
        (f.name, hashlib.sha256(f.content).hexdigest()) for f in fuzz_corpus.corpus(30, seed=7, vendor_codes=["A"])
    ]
    again = [
        (f.name, hashlib.sha256(f.content).hexdigest()) for f in fuzz_corpus.corpus(30, seed=7, vendor_codes=["A"])
    ]
    assert first == again
    assert len({digest for _, digest in first}) == 30
