"""Who reads which article: every customer-facing read of the knowledge base goes through here.

- Anyone: published public articles of every service.
- A signed-in customer of a service: also its published customers-only articles.
- Tier staff: every article (drafts too) of the services they work (all, unless limited by
  ``StaffService``), as the staff admin scopes them.

Nobody else learns that an article exists: another service's customers-only article or a draft
answers 404, like a ticket that is not yours.
"""

from django.db.models import Q
from django.http import Http404

from accounts.roles import staff_tier_level
from sla.models import Service
from sla.selectors import customer_services, staff_service_ids

from . import search
from .models import Article

Status, Visibility = Article.Status, Article.Visibility


def articles_visible_to(*, user):
    """The articles ``user`` may read, over every service (narrow it with ``service=``)."""
    articles = Article.objects.all()
    if user.is_authenticated and staff_tier_level(user) is not None:
        staff_ids = staff_service_ids(user)
        if staff_ids is None:
            return articles
    else:
        staff_ids = set()
    published = Q(status=Status.PUBLISHED)
    visible = published & Q(visibility=Visibility.PUBLIC)
    member_of = [service.pk for service in customer_services(user)]
    if member_of:
        visible |= published & Q(visibility=Visibility.CUSTOMERS, service_id__in=member_of)
    if staff_ids:
        visible |= Q(service_id__in=staff_ids)
    return articles.filter(visible)


def is_customer_of(*, user, service):
    """Whether ``user`` files tickets for ``service`` (and so reads its customers-only
    articles). Reuses the request's cached list of the customer's services."""
    return any(member.pk == service.pk for member in customer_services(user))


def service_get(*, slug):
    try:
        return Service.objects.get(slug=slug)
    except Service.DoesNotExist:
        raise Http404("No such service.") from None


def _readable_in(*, user, service):
    """``articles_visible_to`` for one service, as plain column filters (no OR across
    services), so a service's list reads its listing index in order."""
    articles = Article.objects.filter(service=service)
    if user.is_authenticated and staff_tier_level(user) is not None:
        staff_ids = staff_service_ids(user)
        if staff_ids is None or service.pk in staff_ids:
            return articles
    articles = articles.filter(status=Status.PUBLISHED)
    if is_customer_of(user=user, service=service):
        return articles.filter(visibility__in=[Visibility.PUBLIC, Visibility.CUSTOMERS])
    return articles.filter(visibility=Visibility.PUBLIC)


def article_list(*, user, service, query=""):
    """The service's articles ``user`` may read: ranked matches of ``query`` when given,
    else most recently changed first. Two queries with a paginator, whatever the table size."""
    articles = _readable_in(user=user, service=service)
    if query.strip():
        return search.article_search(articles, query)
    return articles.order_by("-updated_at", "-pk")


def article_get(*, user, service, slug):
    """One article ``user`` may read, or 404."""
    article = _readable_in(user=user, service=service).filter(slug=slug).first()
    if article is None:
        raise Http404("No such article.")
    article.service = service  # read already: the page and its links need it
    return article


def article_suggestions(*, user, text, service_id=None, limit=5):
    """Articles matching what a customer is typing as a ticket subject, best first.

    Scoped to the services the customer files tickets for (one of them when ``service_id``
    names it): a suggestion is an answer they could have used instead of filing.
    """
    member_of = [service.pk for service in customer_services(user)]
    if service_id is not None:
        member_of = [pk for pk in member_of if pk == service_id]
    if not member_of:
        return []
    articles = (
        articles_visible_to(user=user)
        .filter(service_id__in=member_of, status=Status.PUBLISHED)
        .select_related("service")
    )
    return list(search.article_search(articles, text, any_word=True, prefix=True)[:limit])
