"""The knowledge base at size: list, search and suggestions over many articles (PostgreSQL).

    BENCH_DATABASE_URL=postgres://…/portal_kb python bench/knowledge.py --articles 50000 [--fresh]

Seeds ``--articles`` published articles (about 150 words each, from a fixed random vocabulary
with a few topical words, so common words match thousands of rows and rare ones a few) over
three services, once (a second run reuses them). Then times full requests through Django's
handler as a customer of the first service (no network; production settings, ``DEBUG`` off):
the list page, a search of a common word, a search of a rare phrase, and the suggestions
endpoint — median and p95 of ``--repeat`` runs after a warm-up — with their query counts, and
prints the plan of the common search. Results go to ``bench/out/knowledge-<articles>.json``.
"""

import argparse
import json
import os
import random
import statistics
import time
from datetime import timedelta

os.environ.setdefault("BENCH_CACHE_URL", "locmemcache://")

from common import OUT, prepare_database  # noqa: E402

TOPICAL = ["password", "invoice", "backup", "vpn", "export", "login", "certificate", "restore"]


def timed(call, repeat):
    call()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
    }


def count_queries(call):
    from django.db import connection

    queries = []

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        call()
    return len(queries)


def seed(count):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from knowledge.models import Article
    from sla.models import Service, ServiceCustomer

    services = [
        Service.objects.get_or_create(slug=f"kb-bench-{n}", defaults={"name": f"KB bench {n}"})[0]
        for n in range(3)
    ]
    customer, _ = get_user_model().objects.get_or_create(
        username="kb-bench@example.com", defaults={"email": "kb-bench@example.com"}
    )
    ServiceCustomer.objects.get_or_create(service=services[0], customer=customer)
    have = Article.objects.filter(service__in=services).count()
    rng = random.Random(2026)
    vocabulary = [
        "".join(rng.choices("abcdefghijklmnoprstuvw", k=rng.randint(4, 9))) for _ in range(3000)
    ]
    now = timezone.now()
    batch = []
    for n in range(have, count):
        words = rng.choices(vocabulary, k=150) + rng.sample(TOPICAL, 2)
        rng.shuffle(words)
        batch.append(
            Article(
                service=services[n % 3],
                slug=f"article-{n}",
                title=" ".join(rng.choices(vocabulary, k=4) + [rng.choice(TOPICAL)]).capitalize(),
                body=" ".join(words),
                status="published",
                visibility="customers" if n % 2 else "public",
                version=1,
                created_at=now,
                updated_at=now - timedelta(minutes=n),
                published_at=now,
            )
        )
        if len(batch) == 2000:
            Article.objects.bulk_create(batch)
            batch = []
    if batch:
        Article.objects.bulk_create(batch)
    return services[0], customer, vocabulary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    prepare_database(fresh=args.fresh)

    from django.db import connection
    from django.test import Client

    from knowledge.models import Article
    from knowledge.search import article_search

    started = time.perf_counter()
    service, customer, vocabulary = seed(args.articles)
    seeded_s = round(time.perf_counter() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_article")
    client = Client()
    client.force_login(customer)
    rare = f"{vocabulary[7]} {vocabulary[11]}"
    urls = {
        "list": f"/kb/{service.slug}/",
        "search_common": f"/kb/{service.slug}/?q=password",
        "search_rare": f"/kb/{service.slug}/?q={rare.replace(' ', '+')}",
        "search_common_page_5": f"/kb/{service.slug}/?q=password&page=5",
        "suggest": f"/kb/suggest.json?q=cannot+reset+passw&service={service.pk}",
    }
    results = {"articles": Article.objects.count(), "seed_s": seeded_s}
    for name, url in urls.items():

        def call(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        results[name] = {**timed(call, args.repeat), "queries": count_queries(call)}
    rows = article_search(Article.objects.filter(service=service, status="published"), "password")
    sql, params = rows[:20].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(plan)
    print(json.dumps(results, indent=2))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"knowledge-{args.articles}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
