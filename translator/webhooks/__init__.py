"""Webhooks: where an account's events may be sent (addresses), how a body is signed (signing)
and how it is sent (transport). The rows and their life are in translator.services.webhooks."""
