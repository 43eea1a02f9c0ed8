"""API tokens, stored hashed, and the record of every write made with one."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A bearer token of one user. Only ``prefix`` (public, for lookup) and the SHA-256 of the
    whole token are stored: the secret is shown once, at creation, and never again."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    # What the user was when the token was made; a token whose user is no longer that kind
    # (a customer made staff, staff demoted) is refused rather than silently widened.
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    # Written at most once a minute per token (api.services.token_touch).
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now):
        return self.revoked_at is None and self.expires_at > now

    @property
    def can_write(self):
        return self.scope == self.Scope.WRITE


class ApiWrite(models.Model):
    """One successful write through the API, written in the same transaction as the write
    itself: the change and the record of the token that made it commit together or not at
    all. The change's own rows (ticket events, messages …) say what changed; this says how."""

    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, related_name="writes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    # The object the write made or changed, e.g. "ticket:42", "message:7".
    target = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["token", "-created_at"], name="apiwrite_token_created")]
        verbose_name = "API write"

    def __str__(self):
        return f"{self.method} {self.path} by {self.token_id}"
