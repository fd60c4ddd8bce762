"""What the tests read back from the delivery log."""
import json

from translator.models import WebhookDelivery


def only_delivery():
    """The one delivery stored (a test fails if there are none or several) and its JSON body."""
    [row] = WebhookDelivery.objects.all()
    return row, json.loads(row.payload)
