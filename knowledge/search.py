"""Full-text search of articles: PostgreSQL's ranked, stemmed search, or a portable fallback.

One API, two engines, chosen by the database the queryset reads (a parity test runs both on
the same articles):

- PostgreSQL: the stored ``search_vector`` column (migration 0002; GIN index) matched with
  ``websearch_to_tsquery('english', …)`` — every word, stemmed, quotes for phrases, ``-word`` to
  exclude, ``or`` — and ordered by ``ts_rank`` with title words weighing more than body words.
  Suggestions match any word and the last word as a prefix (the customer is still typing it).
- Elsewhere (SQLite, ``make run``): ``icontains`` on title and body per word, stop words
  dropped and common English endings trimmed so "passwords" finds "password"; ranked by
  3 points per word in the title and 1 per word in the body.
"""

import re

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorField,
)
from django.db import connections
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL

# Kept in step with migration 0002's generated column.
SEARCH_CONFIG = "english"
MAX_WORDS = 8
MAX_CHARS = 200

_WORD = re.compile(r"\w+")
# The fallback's stop words: the commonest words of English, which PostgreSQL's ``english``
# configuration drops too, so "how do I reset my password" needs neither "how" nor "my".
STOP_WORDS = frozenset(
    """a an and are as at be but by can do does for from has have how i if in is it its me my no
    not of on or our so that the their then there this to was we what when where which who why
    will with you your""".split()  # noqa: SIM905 -- a word list reads better as words
)


def _vector():
    return RawSQL('"knowledge_article"."search_vector"', [], output_field=SearchVectorField())


def words(text):
    return _WORD.findall((text or "")[:MAX_CHARS].lower())[: MAX_WORDS * 2]


def article_search(articles, text, *, any_word=False, prefix=False):
    """``articles`` matching ``text``, best first (then most recently changed)."""
    text = (text or "")[:MAX_CHARS]
    if connections[articles.db].vendor == "postgresql":
        return _postgres(articles, text, any_word=any_word, prefix=prefix)
    return _portable(articles, text, any_word=any_word)


def _postgres(articles, text, *, any_word, prefix):
    if any_word:
        terms = words(text)[:MAX_WORDS]
        if not terms:
            return articles.none()
        # Only \w+ tokens reach the raw query: no operator a customer typed survives.
        if prefix:
            terms[-1] += ":*"
        query = SearchQuery(" | ".join(terms), config=SEARCH_CONFIG, search_type="raw")
    else:
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
    return (
        articles.alias(document=_vector())
        .filter(document=query)
        .annotate(rank=SearchRank(F("document"), query))
        .order_by("-rank", "-updated_at", "pk")
    )


def stem_lite(word):
    """A crude English stem for substring search: ``passwords`` → ``password``,
    ``resetting`` → ``reset``, ``configured`` → ``configur``."""
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            word = word[: -len(ending)]
            if ending in ("ing", "ed") and word[-1] == word[-2]:
                word = word[:-1]  # resett-ing → reset
            break
    return word


def _portable(articles, text, *, any_word):
    terms = []
    for word in words(text):
        if word not in STOP_WORDS and len(word) > 1:
            stem = stem_lite(word)
            if stem not in terms:
                terms.append(stem)
    terms = terms[:MAX_WORDS]
    if not terms:
        return articles.none()
    matches = [Q(title__icontains=term) | Q(body__icontains=term) for term in terms]
    combined = matches[0]
    for match in matches[1:]:
        combined = (combined | match) if any_word else (combined & match)
    points = IntegerField()
    rank = Value(0, output_field=points)
    for term in terms:
        in_title = When(title__icontains=term, then=Value(3))
        in_body = When(body__icontains=term, then=Value(1))
        rank = (
            rank
            + Case(in_title, default=Value(0), output_field=points)
            + Case(in_body, default=Value(0), output_field=points)
        )
    return articles.filter(combined).annotate(rank=rank).order_by("-rank", "-updated_at", "pk")
