"""The on-call email's acknowledge link: GET shows the page and a button, POST acknowledges.

The signed token in the URL is the authority (like an unsubscribe link: the on-call person may
read the email on a phone that is not signed in); a GET changes nothing, so a mail scanner that
follows links acknowledges nothing. A forged or mangled token is a 404.
"""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .models import OnCallPage
from .oncall import on_call_page_acknowledge, page_for_token


@require_http_methods(["GET", "POST"])
def acknowledge(request, token):
    page, recipient = page_for_token(token)
    if page is None:
        raise Http404("No such page.")
    if request.method == "POST":
        # The link acts for the person it was sent to (a signed-in staff member for themself).
        user = request.user if request.user.is_authenticated and request.user.is_staff else None
        on_call_page_acknowledge(page=page, by=user or recipient, via=OnCallPage.Via.LINK)
        return redirect(request.path)
    return render(request, "paging/acknowledge.html", {"page": page})
