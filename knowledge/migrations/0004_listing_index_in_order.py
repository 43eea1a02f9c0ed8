"""The listing index in the order the list reads it (newest change first, a page at a time),
with visibility included for index-only page counts."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('knowledge', '0003_tier_permissions'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='article',
            name='article_service_listing',
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(fields=['service', 'status', '-updated_at', '-id'], include=('visibility',), name='article_service_listing'),
        ),
    ]
