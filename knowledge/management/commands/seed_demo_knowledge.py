"""Demo articles for ``make run``: a public and a customers-only article per service.

Runs after ``seed_demo`` (which makes the demo admin). Idempotent: an article already there
(same service and address) is left as it is, so what a demo user edited survives a restart.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from knowledge import services
from knowledge.models import Article
from sla.models import Service

ARTICLES = [
    (
        "reset-your-password",
        "Reset your password",
        Article.Visibility.PUBLIC,
        "Forgot your password? On the sign-in page choose **Forgot password**, enter your "
        "address, and follow the link we email you within a few minutes.\n\n"
        "- The link works once, for three days.\n"
        "- No email? Check your spam folder, then write to support.\n",
    ),
    (
        "what-to-include-in-a-ticket",
        "What to include in a ticket",
        Article.Visibility.CUSTOMERS,
        "We answer fastest when a ticket says:\n\n"
        "1. What you did, what you expected, and what happened instead.\n"
        "2. When it started, and whether it still happens.\n"
        "3. Error messages, copied as text, and screenshots.\n\n"
        "Choose the priority by **impact**: P1 is for a service that is down for everyone.\n",
    ),
]


class Command(BaseCommand):
    help = "Add two published demo articles to each service's knowledge base."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true")

    def handle(self, *args, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("seed_demo_knowledge makes demo data; DEBUG is off.")
        admin = (
            get_user_model()
            .objects.filter(username="admin@example.com", is_superuser=True, is_staff=True)
            .first()
        )
        if admin is None:
            raise CommandError("Run seed_demo first: it makes the demo admin.")
        with transaction.atomic():
            for service in Service.objects.order_by("slug"):
                existing = set(
                    Article.objects.filter(service=service).values_list("slug", flat=True)
                )
                for slug, title, visibility, body in ARTICLES:
                    if slug in existing:
                        continue
                    services.article_create(
                        service=service,
                        slug=slug,
                        title=title,
                        body=body,
                        visibility=visibility,
                        status=Article.Status.PUBLISHED,
                        by=admin,
                    )
                self.stdout.write(f"  {service.name}: /kb/{service.slug}/")
