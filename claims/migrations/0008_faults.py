# The data version moves from the cache to the database (claims.cache.data_version): a cache
# that missed a bump during a network partition must not bring old pages back.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('claims', '0007_content_truth'),
    ]

    operations = [
        migrations.CreateModel(
            name='DataVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.CharField(max_length=32)),
            ],
            options={
                'ordering': ['pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('pk', 1)), name='data_version_is_one_row')],
            },
        ),
    ]
