"""The test's handle on the provider: add a person, change their groups, deactivate or remove
them (what an administrator does in a company's identity provider). Guarded by a token only
the test knows."""

import json
import os

from django.contrib.auth.models import Group, User
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


def _allowed(request):
    return request.headers.get("Authorization") == f"Bearer {os.environ['PROVIDER_CONTROL_TOKEN']}"


@csrf_exempt
@require_POST
def users(request):
    if not _allowed(request):
        return HttpResponseForbidden()
    data = json.loads(request.body)
    user = User.objects.create_user(
        username=data["username"],
        email=data.get("email", ""),
        password=data["password"],
        first_name=data.get("given_name", ""),
        last_name=data.get("family_name", ""),
    )
    _set_groups(user, data.get("groups", []))
    return JsonResponse({"sub": str(user.pk)})


@csrf_exempt
@require_POST
def user_action(request, username, action):
    if not _allowed(request):
        return HttpResponseForbidden()
    user = User.objects.get(username=username)
    if action == "deactivate":
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif action == "delete":
        user.delete()
    elif action == "groups":
        _set_groups(user, json.loads(request.body))
    else:
        return HttpResponse(status=404)
    return HttpResponse(status=204)


def _set_groups(user, names):
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])
