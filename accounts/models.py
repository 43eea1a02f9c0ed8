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
    # "Sign out everywhere" raises it; a session signed in under a lower one is ended at its
    # next request (accounts.sessions), whatever store the sessions live in.
    session_generation = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"profile of {self.user}"


class PendingSignup(User):
    """A verified customer account that no service has taken on yet: the admin's list of
    sign-ups waiting for access (a view of the user table, no rows of its own)."""

    class Meta:
        proxy = True
        verbose_name = "sign-up waiting for access"
        verbose_name_plural = "sign-ups waiting for access"


class OidcIdentity(models.Model):
    """An account at the identity provider (issuer + subject) that signs in as ``user``.

    The subject is the provider's stable id for the person; the email is only used the first
    time, to find an existing account (accounts.oidc explains the rules)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    # The newest refresh token the provider gave any session of this person, and when the
    # provider last answered for them: sessions re-check through it (accounts.oidc). Kept per
    # person, under a row lock, so concurrent re-checks never spend one rotated token twice.
    refresh_token = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="uniq_oidc_subject"),
            # One identity per provider and account: a second would be a second person.
            models.UniqueConstraint(fields=["issuer", "user"], name="uniq_oidc_user"),
        ]

    def __str__(self):
        return f"{self.subject} at {self.issuer}"
