"""Review requests record when the images of a decided one were deleted (backend.reviews.retention).

The ID card photos of a manual review (R5) were kept on disk for good, decided or not. A daily job
now deletes them a while after the decision; the row keeps who asked, the decision and this time.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0015_account_last_login")]

    operations = [
        ops.AddField(model_name="ReviewRequest", name="images_removed_at", field=fields.DatetimeField(null=True)),
    ]
