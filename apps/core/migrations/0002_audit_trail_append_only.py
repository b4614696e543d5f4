"""On PostgreSQL the database itself refuses UPDATE and DELETE on the audit trail tables."""

from django.db import migrations

TABLES = ["core_auditevent", "auditlog_logentry"]

FUNCTION = """
CREATE OR REPLACE FUNCTION opsportal_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION opsportal_audit_append_only();"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS opsportal_audit_append_only();")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auditlog", "0017_add_actor_email")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
