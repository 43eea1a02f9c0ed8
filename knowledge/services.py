"""Every write of the knowledge base: articles and their versions, restores, drafts from
tickets, and "this solved it" marks. One transaction each."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from accounts.roles import staff_tier_level
from sla.selectors import staff_service_ids
from tickets.models import Message, Ticket

from .models import Article, ArticleSolved, ArticleVersion

# What a version keeps. A slug is an address, not content: changing it alone adds no version.
VERSIONED = ("title", "body", "status", "visibility")
EDITABLE = (*VERSIONED, "slug")
ANSWERED = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)


def _check_writer(*, by, service):
    """Tier staff write the articles of the services they work; nobody else does."""
    if by is None or staff_tier_level(by) is None:
        raise PermissionDenied("Only tier staff write knowledge-base articles.")
    ids = staff_service_ids(by)
    if ids is not None and service.pk not in ids:
        raise PermissionDenied("You do not work this service.")


def _clean(fields):
    errors = {}
    title = fields.get("title")
    if title is not None:
        fields["title"] = title = title.strip()
        if not title:
            errors["title"] = "An article needs a title."
        elif len(title) > 200:
            errors["title"] = "At most 200 characters."
    if "body" in fields and not (fields["body"] or "").strip():
        errors["body"] = "An article needs some text."
    if "status" in fields and fields["status"] not in Article.Status.values:
        errors["status"] = "Unknown status."
    if "visibility" in fields and fields["visibility"] not in Article.Visibility.values:
        errors["visibility"] = "Unknown visibility."
    if errors:
        raise ValidationError(errors)


def _free_slug(*, service, wanted, exclude_pk=None):
    base = (slugify(wanted) or "article")[:190].strip("-") or "article"
    taken = set(
        Article.objects.filter(service=service, slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_slug(*, service, slug, exclude_pk=None):
    try:
        validate_slug(slug)
    except ValidationError:
        raise ValidationError({"slug": "Letters, digits, hyphens and underscores only."}) from None
    if len(slug) > 200:
        raise ValidationError({"slug": "At most 200 characters."})
    if Article.objects.filter(service=service, slug=slug).exclude(pk=exclude_pk).exists():
        raise ValidationError({"slug": "Another article of this service has this address."})


def _record_version(article, *, by, note, now):
    ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        body=article.body,
        status=article.status,
        visibility=article.visibility,
        note=note[:200],
        created_by=by,
        created_at=now,
    )


@transaction.atomic
def article_create(
    *,
    service,
    title,
    body,
    by,
    slug="",
    status=Article.Status.DRAFT,
    visibility=Article.Visibility.CUSTOMERS,
    source_ticket=None,
    note="Created",
):
    """A new article and its version 1. Without a ``slug``, one is made from the title."""
    _check_writer(by=by, service=service)
    fields = {"title": title, "body": body, "status": status, "visibility": visibility}
    _clean(fields)
    if slug:
        _check_slug(service=service, slug=slug)
    else:
        slug = _free_slug(service=service, wanted=fields["title"])
    now = timezone.now()
    article = Article.objects.create(
        service=service,
        slug=slug,
        version=1,
        source_ticket=source_ticket,
        created_by=by,
        updated_by=by,
        created_at=now,
        updated_at=now,
        published_at=now if status == Article.Status.PUBLISHED else None,
        **fields,
    )
    _record_version(article, by=by, note=note, now=now)
    return article


@transaction.atomic
def article_update(*, article, by, note="", **changes):
    """Apply ``changes`` (title, body, status, visibility, slug); a change of content adds a
    version. Saving with nothing changed writes nothing."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    # Locked, so two staff saving at once get versions n+1 and n+2, never two n+1.
    locked = Article.objects.select_for_update().select_related("service").get(pk=article.pk)
    _check_writer(by=by, service=locked.service)
    _clean(changes)
    if "slug" in changes:
        changes["slug"] = changes["slug"] or _free_slug(
            service=locked.service, wanted=changes.get("title", locked.title), exclude_pk=locked.pk
        )
        if changes["slug"] != locked.slug:
            _check_slug(service=locked.service, slug=changes["slug"], exclude_pk=locked.pk)
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    now = timezone.now()
    for name in changed:
        setattr(locked, name, changes[name])
    fields = [*changed, "updated_at", "updated_by"]
    locked.updated_at, locked.updated_by = now, by
    if locked.status == Article.Status.PUBLISHED and locked.published_at is None:
        locked.published_at = now
        fields.append("published_at")
    content_changed = any(name in VERSIONED for name in changed)
    if content_changed:
        locked.version += 1
        fields.append("version")
    locked.save(update_fields=fields)
    if content_changed:
        _record_version(locked, by=by, note=note or "Edited", now=now)
    return locked


def article_restore(*, article, number, by):
    """Bring back version ``number``'s title and text as a new version. Who may read the
    article (status, visibility) stays as it is now: a restore never publishes or widens."""
    version = ArticleVersion.objects.filter(article=article, number=number).first()
    if version is None:
        raise ValidationError("No such version of this article.")
    return article_update(
        article=article,
        by=by,
        title=version.title,
        body=version.body,
        note=f"Restored version {number}",
    )


def ticket_answer(ticket):
    """The staff's last public reply on ``ticket``: the answer an article starts from."""
    return (
        Message.objects.filter(ticket=ticket, internal=False, author__is_staff=True)
        .order_by("-created_at", "-pk")
        .first()
    )


def article_from_ticket(*, ticket, by):
    """A draft article from a resolved ticket: its subject and the staff's public reply.

    Returns ``(article, created)``. A ticket gives one article: asked again (twice, or by two
    staff at once), it returns the article already made from it.
    """
    existing = Article.objects.filter(source_ticket=ticket).first()
    if existing is not None:
        return existing, False
    if ticket.status not in ANSWERED:
        raise ValidationError("it is not resolved yet.")
    answer = ticket_answer(ticket)
    if answer is None:
        raise ValidationError("it has no public staff reply to start from.")
    try:
        with transaction.atomic():
            article = article_create(
                service=ticket.service,
                title=ticket.subject,
                body=answer.body,
                by=by,
                status=Article.Status.DRAFT,
                visibility=Article.Visibility.CUSTOMERS,
                source_ticket=ticket,
                note=f"Draft from ticket {ticket.number}",
            )
    except IntegrityError:
        # Made by someone else in the meantime (the one-article-per-ticket constraint).
        return Article.objects.get(source_ticket=ticket), False
    return article, True


def article_mark_solved(*, article, user=None, session_key=""):
    """Count "this solved it" once per reader (user, else session). True when it counted."""
    if user is not None and not user.is_authenticated:
        user = None
    if user is None and not session_key:
        raise ValidationError("A reader is needed: a user or a session.")
    try:
        with transaction.atomic():
            ArticleSolved.objects.create(
                article=article, user=user, session_key="" if user else session_key
            )
            Article.objects.filter(pk=article.pk).update(solved_count=F("solved_count") + 1)
    except IntegrityError:
        return False  # this reader counted already
    return True
