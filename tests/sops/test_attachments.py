"""Attachment rules: permitted types checked by name and content, a size limit, clean names."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.exceptions import TransitionNotAllowed
from apps.sops import services
from apps.sops.attachments import check_attachment


@pytest.mark.parametrize(
    "name,content,content_type",
    [
        ("flow.pdf", b"%PDF-1.4 ...", "application/pdf"),
        ("Flow.PNG", b"\x89PNG\r\n\x1a\n....", "image/png"),
        ("photo.jpeg", b"\xff\xd8\xff\xe0....", "image/jpeg"),
        ("form.docx", b"PK\x03\x04....", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("limits.csv", "sku,limit\nA-1,5 €\n".encode(), "text/csv; charset=utf-8"),
    ],
)
def test_permitted_files(name, content, content_type):
    checked = check_attachment(SimpleUploadedFile(name, content))
    assert checked.content_type == content_type and checked.size == len(content) and len(checked.sha256) == 64


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("evil.html", b"<script>", "Files of type .html are not accepted"),
        ("evil.svg", b"<svg onload=alert(1)>", "Files of type .svg are not accepted"),
        ("run.exe", b"MZ", "Files of type .exe are not accepted"),
        ("noext", b"x", "Files of type .? are not accepted"),
        (".pdf", b"%PDF-", "needs a name with an extension"),
        ("fake.pdf", b"<html>", "does not look like a .pdf file"),
        ("fake.png", b"%PDF-", "does not look like a .png file"),
        ("binary.txt", b"abc\x00def", "is not a text file"),
        ("latin1.csv", "prix,é\n".encode("latin-1"), "is not UTF-8 text"),
        ("empty.txt", b"", "is empty"),
    ],
)
def test_refused_files(name, content, message):
    with pytest.raises(ValidationError) as error:
        check_attachment(SimpleUploadedFile(name, content))
    assert message in error.value.message_dict["file"][0]


@pytest.mark.parametrize("size,ok", [(100, True), (101, False)])
def test_size_limit_boundary(settings, size, ok):
    settings.SOP_ATTACHMENT_MAX_BYTES = 100
    upload = SimpleUploadedFile("a.txt", b"x" * size)
    if ok:
        assert check_attachment(upload).size == 100
    else:
        with pytest.raises(ValidationError, match="at most"):
            check_attachment(upload)


def test_path_parts_are_dropped_from_the_name():
    assert check_attachment(SimpleUploadedFile("../../etc/notes.txt", b"x")).name == "notes.txt"
    assert check_attachment(SimpleUploadedFile("C:\\temp\\notes.txt", b"x")).name == "notes.txt"


def test_attach_and_remove_on_a_draft(draft, author, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    attachment = services.sop_attachment_add(
        version_id=draft.pk, actor=author, uploaded=SimpleUploadedFile("steps.pdf", b"%PDF-1.4")
    )
    assert attachment.file.name.startswith("sops/AP-001/v1/")
    with pytest.raises(ValidationError, match=r"already has a file named steps\.pdf"):
        services.sop_attachment_add(
            version_id=draft.pk, actor=author, uploaded=SimpleUploadedFile("steps.pdf", b"%PDF-")
        )
    services.sop_attachment_remove(attachment_id=attachment.pk, actor=author)
    assert not draft.attachments.exists()


def test_files_of_a_version_in_review_are_fixed(in_review, author, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(TransitionNotAllowed, match="its files are fixed"):
        services.sop_attachment_add(
            version_id=in_review.pk, actor=author, uploaded=SimpleUploadedFile("a.pdf", b"%PDF-")
        )
