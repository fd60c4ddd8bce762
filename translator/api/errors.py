"""One error format for the whole API:

    {"code": "invalid", "message": "A sentence for people.", "fields": {"image": ["..."]}}

`fields` appears only for validation errors. Django's own ValidationError (raised by services)
and Http404 are turned into the same shape, and so are 404s and 500s of unknown /api/ URLs. So are
the requests Django refuses to parse (too many files or fields, a body too large: see
translator/request_limits.py), which DRF would answer with a 500.
"""
import logging

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from ..request_limits import log_refusal, refusal_for

log = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (documented in the schema)."""

    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`, `not_found`.")
    message = serializers.CharField(help_text="What went wrong, in words for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors per field.",
    )


def _first_message(detail):
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def _first_code(codes):
    if isinstance(codes, dict):
        for value in codes.values():
            return _first_code(value)
    if isinstance(codes, list) and codes:
        return _first_code(codes[0])
    return str(codes)


def _flatten(detail):
    """DRF's nested detail -> {"field": ["message", ...]}."""
    if isinstance(detail, dict):
        return {key: [str(m) for m in (value if isinstance(value, list) else [value])] for key, value in detail.items()}
    return {"non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def exception_handler(exc, context):
    if isinstance(exc, SuspiciousOperation):
        log_refusal(exc)
        set_rollback()
        return _refusal_response(refusal_for(exc))
    if isinstance(exc, DjangoValidationError):
        field = getattr(exc, "field", None) or "non_field_errors"
        exc = exceptions.ValidationError({field: exc.messages}, code=getattr(exc, "code", None) or "invalid")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled error in the API", exc_info=exc)
        return Response({"code": "server_error", "message": "Something went wrong on our side."}, status=500)

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        body = {"code": _first_code(exc.get_codes()), "message": _first_message(exc.detail), "fields": fields}
    else:
        body = {"code": _first_code(exc.get_codes()), "message": _first_message(exc.detail)}
    response.data = body
    return response


def _refusal_response(refusal):
    return Response({"code": refusal.code, "message": refusal.message}, status=refusal.status)


def json_400(request, exception=None):
    """handler400 for /api/ URLs: a request refused before any API view ran (a bad Host header)."""
    refusal = refusal_for(exception) or refusal_for(SuspiciousOperation())
    return JsonResponse({"code": refusal.code, "message": refusal.message}, status=refusal.status)


def json_403(request, exception=None):
    return JsonResponse({"code": "permission_denied", "message": "You do not have permission to perform this action."}, status=403)


def json_404(request, exception=None):
    return JsonResponse({"code": "not_found", "message": "There is nothing at this address."}, status=404)


def json_500(request):
    return JsonResponse({"code": "server_error", "message": "Something went wrong on our side."}, status=500)
