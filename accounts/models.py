from django.conf import settings
from django.contrib.auth.models import User
from django.db import models


class Profile(models.Model):
    """What a person sets about themselves: the zone their times are shown in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # Empty: show each service's times in the service's own zone.
    timezone = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"profile of {self.user}"


class PendingSignup(User):
    """A verified customer account that no service has taken on yet: the admin's list of
    sign-ups waiting for access (a view of the user table, no rows of its own)."""

    class Meta:
        proxy = True
        verbose_name = "sign-up waiting for access"
        verbose_name_plural = "sign-ups waiting for access"
