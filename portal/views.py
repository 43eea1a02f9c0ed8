"""Project-level pages: the home page (the customer's dashboard) and the health check."""

from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.shortcuts import render

from contracts.selectors import contract_usage_for_customer
from tickets.selectors import customer_dashboard


def home(request):
    context = {}
    if request.user.is_authenticated:
        context = customer_dashboard(user=request.user)
        # This month's support hours of the customer's own organisation (None: nothing shown).
        context["support_usage"] = contract_usage_for_customer(user=request.user)
    return render(request, "portal/home.html", context)


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
