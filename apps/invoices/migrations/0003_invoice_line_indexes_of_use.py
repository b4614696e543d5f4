"""Invoice lines drop the indexes no query uses.

Lines are looked up by invoice through the index of the (invoice, line_number) constraint, and nothing
filters them by match reason; every line written kept three indexes up to date for nothing. The indexes
are dropped by name, so that the foreign key is left alone (Django would drop it and add it again, checking
every line while the tables are locked).
"""

from django.db import migrations, models

TABLE = "invoices_invoiceline"
INDEXES = {  # name: (column, a "LIKE" index of PostgreSQL)
    "invoices_invoiceline_invoice_id_071a8d97": ("invoice_id", False),
    "invoices_invoiceline_match_reason_45fa8ac5": ("match_reason", False),
    "invoices_invoiceline_match_reason_45fa8ac5_like": ("match_reason", True),
}


def drop_indexes(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def create_indexes(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, (column, like) in INDEXES.items():
        if like and not postgres:
            continue
        operator_class = " varchar_pattern_ops" if like else ""
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLE}" ("{column}"{operator_class})')


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0002_search_and_list_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="invoiceline",
                    name="invoice",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="lines",
                        to="invoices.invoice",
                    ),
                ),
                migrations.AlterField(
                    model_name="invoiceline",
                    name="match_reason",
                    field=models.CharField(
                        blank=True,
                        choices=[
                            ("no_po", "No purchase order line"),
                            ("qty_over_ordered", "Quantity above ordered"),
                            ("qty_over_received", "Quantity above received"),
                            ("not_received", "Nothing received yet"),
                            ("price_over_ordered", "Price above ordered"),
                        ],
                        editable=False,
                        max_length=20,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        ),
    ]
