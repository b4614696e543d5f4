import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("refunds", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(django.db.models.functions.text.Upper("reference"), name="order_reference_upper_idx"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                django.db.models.functions.text.Upper("customer_name"), name="order_customer_name_upper_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                django.db.models.functions.text.Upper("customer_email"), name="order_customer_email_upper_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="refundcase",
            index=models.Index(
                django.db.models.functions.text.Upper("reference"), name="refundcase_reference_upper_idx"
            ),
        ),
    ]
