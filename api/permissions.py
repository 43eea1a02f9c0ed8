"""Who may call what: a token is required; writes need a write-scoped token; staff-only
operations need a staff token. What each user may see or change is the selectors' and
services' business, not this module's."""

from rest_framework import permissions

from accounts.roles import staff_tier_level


def is_staff_request(request):
    return staff_tier_level(request.user) is not None


class TokenScope(permissions.BasePermission):
    message = "This token is read-only: create a write token to change anything."

    def has_permission(self, request, view):
        token = request.auth
        if token is None:
            return False
        return request.method in permissions.SAFE_METHODS or token.can_write


class StaffOnly(permissions.BasePermission):
    message = "Only staff may do this."

    def has_permission(self, request, view):
        return is_staff_request(request)


class CustomerOnly(permissions.BasePermission):
    message = "Customers open tickets; staff work them."

    def has_permission(self, request, view):
        return not is_staff_request(request)
