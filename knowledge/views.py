"""``/kb/<service>/``: a service's knowledge base (list and search), its articles, the
"this solved it" button, and the suggestions the new-ticket form asks for as a customer types.

Every read goes through ``knowledge.selectors``: an article the reader may not see is a 404.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services
from .rendering import plain_excerpt, render_markdown
from .search import MAX_CHARS

ARTICLES_PER_PAGE = 20
# Suggestions wait for a few letters: fewer match nearly everything.
SUGGEST_MIN_CHARS = 3


def _private(response):
    # The page depends on who reads it (customers-only articles, drafts for staff).
    patch_vary_headers(response, ["Cookie"])
    patch_cache_control(response, private=True)
    return response


@require_GET
def article_list(request, service_slug):
    service = selectors.service_get(slug=service_slug)
    query = request.GET.get("q", "")[:MAX_CHARS].strip()
    articles = selectors.article_list(user=request.user, service=service, query=query)
    page = Paginator(articles, ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(article, plain_excerpt(article.body)) for article in page.object_list]
    return _private(
        render(
            request,
            "knowledge/list.html",
            {
                "service": service,
                "query": query,
                "page": page,
                "rows": rows,
                "is_customer": selectors.is_customer_of(user=request.user, service=service),
            },
        )
    )


@require_GET
def article_detail(request, service_slug, article_slug):
    service = selectors.service_get(slug=service_slug)
    article = selectors.article_get(user=request.user, service=service, slug=article_slug)
    return _private(
        render(
            request,
            "knowledge/article.html",
            {
                "service": service,
                "article": article,
                "body": render_markdown(article.body),
                "solved": request.session.get(_solved_key(article)) is not None,
            },
        )
    )


def _solved_key(article):
    return f"kb-solved-{article.pk}"


@require_POST
def article_solved(request, service_slug, article_slug):
    """Count "this solved it": once per signed-in user, else once per browser session."""
    service = selectors.service_get(slug=service_slug)
    article = selectors.article_get(user=request.user, service=service, slug=article_slug)
    if not article.is_published:
        return redirect(article)  # a draft previewed by staff counts nothing
    if not request.session.session_key:
        request.session.save()  # a visitor's mark needs a session to be counted once
    counted = services.article_mark_solved(
        article=article,
        user=request.user if request.user.is_authenticated else None,
        session_key=request.session.session_key,
    )
    request.session[_solved_key(article)] = True
    if counted:
        messages.success(request, "Thank you: glad this article solved it.")
    else:
        messages.info(request, "You told us already that this article solved it. Thank you.")
    return redirect(article)


@require_GET
def suggest(request):
    """JSON for the new-ticket form: the customer's articles matching the subject typed."""
    text = request.GET.get("q", "")[:MAX_CHARS].strip()
    service_id = request.GET.get("service", "")
    service_id = int(service_id) if service_id.isdigit() and len(service_id) < 12 else None
    found = []
    if request.user.is_authenticated and len(text) >= SUGGEST_MIN_CHARS:
        found = selectors.article_suggestions(user=request.user, text=text, service_id=service_id)
    response = JsonResponse(
        {
            "articles": [
                {
                    "title": article.title,
                    "service": article.service.name,
                    "url": article.get_absolute_url(),
                    "excerpt": plain_excerpt(article.body, chars=140),
                }
                for article in found
            ]
        }
    )
    patch_cache_control(response, private=True, no_store=True)
    return response
