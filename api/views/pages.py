"""The signed-in user's API tokens page: create (the value shown once) and revoke.

Staff owe the page their second factor when ``STAFF_2FA_REQUIRED`` is on, as the admin's pages
do (``accounts.sessions.second_factor_redirect``): a staff token opens the staff API, so a
password alone must not mint one. Revoking needs no second factor: it only takes power away.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import apply_service_errors
from accounts.sessions import second_factor_redirect

from .. import services
from ..forms import TokenForm
from ..selectors import tokens_of_user


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request):
    refused = second_factor_redirect(request, what="create API tokens")
    if refused is not None:
        return refused
    created = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(timezone.now()),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            # Rendered, not redirected: the value is on this one response (no-store) and
            # nowhere else — not in the session, not in a message cookie.
            created = {"token": token, "raw": raw}
            form = TokenForm()
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "created": created,
            "tokens": tokens_of_user(user=request.user),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def token_revoke(request, token_id):
    token = tokens_of_user(user=request.user).filter(pk=token_id).first()
    if token is None:
        raise Http404("No such token.")
    services.token_revoke(token=token, by=request.user)
    messages.success(request, f"The token “{token.name}” is revoked.")
    return redirect("api_pages:tokens")
