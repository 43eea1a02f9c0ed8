"""Build an email's subject, text and HTML from templates on disk.

``templates/emails/<app>/<name>.subject.txt``, ``.txt`` and ``.html``; every template gets
``site_url`` so links in emails are absolute.
"""

from dataclasses import dataclass

from django.conf import settings
from django.template import Context
from django.template.loader import get_template, render_to_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name, context):
    context = {"site_url": settings.SITE_URL, **context}
    subject = _render_text(f"emails/{name}.subject.txt", context)
    return RenderedEmail(
        # A header cannot hold a line break, whatever a template or a ticket subject holds.
        subject=" ".join(subject.split())[:255],
        text=_render_text(f"emails/{name}.txt", context),
        html=render_to_string(f"emails/{name}.html", context),
    )


def _render_text(template_name, context):
    """Render a subject or text part unescaped: "R&D" must not arrive as "R&amp;D"."""
    return get_template(template_name).template.render(Context(context, autoescape=False))


def absolute_url(path):
    return f"{settings.SITE_URL}{path}"
