"""Placeholder: the customer pages are being written."""

from django.http import HttpResponse


def ticket_list(request, **kwargs):
    return HttpResponse(status=501)


def ticket_new(request, **kwargs):
    return HttpResponse(status=501)


def ticket_detail(request, **kwargs):
    return HttpResponse(status=501)


def ticket_submitted(request, **kwargs):
    return HttpResponse(status=501)


def ticket_reply(request, **kwargs):
    return HttpResponse(status=501)


def ticket_status(request, **kwargs):
    return HttpResponse(status=501)


def ticket_rate(request, **kwargs):
    return HttpResponse(status=501)


def attachment_download(request, **kwargs):
    return HttpResponse(status=501)
