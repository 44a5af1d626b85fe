from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("toyapp", "0002_sagaparticipant_shipment"),
    ]

    operations = [
        migrations.AddField(
            model_name="fault",
            name="only_counter",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
