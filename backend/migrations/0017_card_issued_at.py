"""A card binding keeps the card certificate's start of validity (``card_binding.issued_at``).

A holder's replacement card (lost, renewed) found their account bound to the old card at a card
login and made a second account beside it (an operator) or was refused as if the admin were someone
else's (a legal representative). Now a card of the same holder and kind issued later takes the
binding over (backend.cards.actions._replaced_card), and an older one is refused: this date tells
which is newer. Bindings made before have none; the first later card replaces them.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("cunwu", "0016_review_images_removed")]

    operations = [
        ops.AddField(model_name="CardBinding", name="issued_at", field=fields.DatetimeField(null=True)),
    ]
