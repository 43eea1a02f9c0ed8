"""Every error as RFC 9457 problem details (``application/problem+json``).

``type`` is ``about:blank`` (the status says it all) and ``title`` the status's phrase;
``detail`` says what happened in words; a refused input adds ``errors``, field by field
(``non_field_errors`` for the input as a whole). The services' own exceptions map as the
portal's pages map them: ``ValidationError`` → 400 (429 when it is a rate limit),
``PermissionDenied`` → 403, ``Http404`` → 404.
"""

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

PROBLEM_TYPE = "application/problem+json"
logger = logging.getLogger("api")


def problem_body(status_code, detail, *, errors=None, instance=None):
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def problem_response(status_code, detail, *, errors=None, headers=None, instance=None):
    body = problem_body(status_code, detail, errors=errors, instance=instance)
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_TYPE)


def _django_validation_errors(error):
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(value) for value in detail]
    return str(detail)


def exception_handler(exc, context):
    request = context.get("request")
    instance = request.path if request is not None else None
    if isinstance(exc, DjangoValidationError):
        codes = (
            {getattr(e, "code", None) for e in exc.error_list}
            if hasattr(exc, "error_list")
            else set()
        )
        if "throttled" in codes:
            return problem_response(429, " ".join(exc.messages), instance=instance)
        errors = _django_validation_errors(exc)
        return problem_response(
            400, "The request was refused: see errors.", errors=errors, instance=instance
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("API error on %s", instance, exc_info=exc)
        return problem_response(500, "Something went wrong on our side.", instance=instance)
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After")}
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        errors = _flatten(detail if isinstance(detail, dict) else {"non_field_errors": detail})
        return problem_response(
            response.status_code,
            "The request was refused: see errors.",
            errors=errors,
            headers=headers,
            instance=instance,
        )
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        headers["Allow"] = response.get("Allow", "")
    return problem_response(response.status_code, str(detail), headers=headers, instance=instance)
