"""Article Markdown to safe HTML: CommonMark with raw HTML off, then an allow-list sanitiser.

Two layers on purpose. markdown-it-py's ``js-default`` preset (CommonMark, ``html`` off) shows
any ``<script>`` or ``<img onerror=…>`` typed in an article as text and refuses
``javascript:`` links; nh3 (the Rust ``ammonia`` sanitiser) then keeps only allow-listed tags,
attributes and URL schemes, so a parser bug or a future plugin cannot put markup on a page that
the CSP would have to catch. Only the sanitiser's output is marked safe.
"""

import html

import nh3
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from markdown_it import MarkdownIt

_markdown = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("table").enable("strikethrough")

TAGS = {
    "a", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "em", "strong", "del", "s", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td",
    "img",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text):
    """The article body as HTML safe to put on a page."""
    rendered = _markdown.render(text or "")
    return mark_safe(  # noqa: S308 -- nh3's output: allow-listed tags, attributes and schemes
        nh3.clean(
            rendered,
            tags=TAGS,
            attributes=ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
        )
    )


def plain_excerpt(text, chars=180):
    """The first words of the rendered article as plain text (lists, suggestions)."""
    rendered = _markdown.render(text or "")
    words = nh3.clean(rendered, tags=set()).split()
    # nh3 leaves the text HTML-escaped; the template or JSON escapes the excerpt itself.
    return Truncator(html.unescape(" ".join(words))).chars(chars)
