"""Knowledge-base articles of a service, their saved versions, and "this solved it" marks.

On PostgreSQL the article table also holds ``search_vector``, a stored generated ``tsvector``
(title weighted above body, English stemming) with a GIN index. It is made by migration 0001
on PostgreSQL only and unknown to the model: the database keeps it current on every write
whatever path wrote the row, and ``knowledge.search`` reads it by name.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (staff only)"
        PUBLISHED = "published", "Published"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public (anyone)"
        CUSTOMERS = "customers", "Customers of the service (signed in)"

    service = models.ForeignKey("sla.Service", on_delete=models.CASCADE, related_name="articles")
    slug = models.SlugField(max_length=200)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown (CommonMark). Raw HTML is shown as text.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    visibility = models.CharField(
        max_length=20, choices=Visibility.choices, default=Visibility.CUSTOMERS
    )
    # The number of the latest ArticleVersion: each saved change adds one.
    version = models.PositiveIntegerField(default=0)
    # The resolved ticket whose answer this article started from (one article per ticket).
    source_ticket = models.OneToOneField(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Denormalised count of ArticleSolved rows, kept in the same transaction as each row, so a
    # list of articles shows it without counting per row.
    solved_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["service", "slug"], name="uniq_article_service_slug")
        ]
        indexes = [
            # A service's published articles, newest change first, read in index order a page
            # at a time; visibility rides along (PostgreSQL INCLUDE) so the page count of
            # "public" or "public and customers-only" is an index-only scan.
            models.Index(
                fields=["service", "status", "-updated_at", "-id"],
                include=["visibility"],
                name="article_service_listing",
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse(
            "knowledge:article",
            kwargs={"service_slug": self.service.slug, "article_slug": self.slug},
        )

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED


class ArticleVersion(models.Model):
    """The article as one save left it. Never changed: a restore adds a new version."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(max_length=20, choices=Article.Status.choices)
    visibility = models.CharField(max_length=20, choices=Article.Visibility.choices)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="uniq_article_version")
        ]

    def __str__(self):
        return f"{self.article_id} v{self.number}"


class ArticleSolved(models.Model):
    """One "this solved it" per reader per article: a signed-in user, else a browser session."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="solved_marks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    session_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "user"],
                condition=models.Q(user__isnull=False),
                name="uniq_article_solved_user",
            ),
            models.UniqueConstraint(
                fields=["article", "session_key"],
                condition=models.Q(user__isnull=True),
                name="uniq_article_solved_session",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(session_key=""),
                name="article_solved_has_reader",
            ),
        ]

    def __str__(self):
        return f"solved: article {self.article_id}"
