from decimal import Decimal

from django.db import migrations

DEFAULT_BANDS = [
    ("Poor", Decimal("0"), Decimal("50")),
    ("Fair", Decimal("50"), Decimal("75")),
    ("Good", Decimal("75"), Decimal("90")),
    ("Excellent", Decimal("90"), Decimal("100")),
]


def create_default_bands(apps, schema_editor):
    StandingBand = apps.get_model("vendors", "StandingBand")
    if not StandingBand.objects.exists():
        StandingBand.objects.bulk_create(
            StandingBand(name=name, min_score=low, max_score=high) for name, low, high in DEFAULT_BANDS
        )


class Migration(migrations.Migration):
    dependencies = [("vendors", "0001_initial")]

    operations = [migrations.RunPython(create_default_bands, migrations.RunPython.noop)]
