import factory

from apps.sops.models import Area, SOPDocument, SOPVersion
from tests.core.factories import UserFactory


class SOPDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SOPDocument

    code = factory.Sequence(lambda n: f"TST-{n + 100:03d}")
    title = factory.Sequence(lambda n: f"Procedure {n}")
    area = Area.GENERAL
    owner = factory.SubFactory(UserFactory)
    review_interval_days = 365


class SOPVersionFactory(factory.django.DjangoModelFactory):
    """A draft; use the services (see conftest's ``publish``) to move it on."""

    class Meta:
        model = SOPVersion

    document = factory.SubFactory(SOPDocumentFactory)
    number = factory.Sequence(lambda n: n + 1)
    body = "# Procedure\n\n1. Do the thing.\n2. Record it.\n"
    change_summary = "First issue."
    author = factory.SubFactory(UserFactory)
