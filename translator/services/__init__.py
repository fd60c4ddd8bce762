"""Writes: every change to translator data goes through these functions.

Views, API views, admin actions and tasks stay thin and call these. Arguments are keyword-only.
One module per subject; the names are gathered here so callers say `services.create_conversion`.
"""
from .catalogue import IMPORT_FORMATS, add_model_version, import_model, render_model_preview, set_model_preview
from .conversions import (
    cancel_conversion,
    cancel_requested,
    claim_conversion,
    create_conversion,
    delete_conversion,
    enqueue_conversion,
    fail_conversion,
    finish_conversion,
    mark_cancelled,
    record_progress,
)
from .errors import ServiceError

__all__ = [
    "ServiceError",
    "add_model_version",
    "set_model_preview",
    "import_model",
    "render_model_preview",
    "IMPORT_FORMATS",
    "create_conversion",
    "enqueue_conversion",
    "claim_conversion",
    "record_progress",
    "cancel_requested",
    "cancel_conversion",
    "mark_cancelled",
    "finish_conversion",
    "fail_conversion",
    "delete_conversion",
]
