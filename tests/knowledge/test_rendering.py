"""Article Markdown becomes safe HTML: raw HTML is text, dangerous links and attributes go."""

from django.utils.safestring import SafeString

from knowledge.rendering import plain_excerpt, render_markdown


def test_markdown_renders_headings_lists_code_and_tables():
    html = render_markdown(
        "# Title\n\n- one\n- **two**\n\n`code`\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<h1>Title</h1>" in html
    assert "<li><strong>two</strong></li>" in html
    assert "<code>code</code>" in html
    assert "<td>1</td>" in html
    assert isinstance(html, SafeString)


def test_raw_html_in_an_article_is_shown_as_text():
    """A <script> or an <img onerror> typed in an article never becomes markup."""
    html = render_markdown('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">')
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


def test_links_keep_only_safe_schemes_and_get_rel():
    html = render_markdown(
        "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](data:text/html,x) "
        "[d](https://example.com/x) [e](mailto:help@example.com)"
    )
    assert 'href="javascript' not in html.lower()
    assert 'href="data:' not in html
    assert '<a href="https://example.com/x" rel="noopener noreferrer nofollow">d</a>' in html
    assert 'href="mailto:help@example.com"' in html


def test_the_sanitiser_drops_markup_the_parser_would_let_through(monkeypatch):
    """The second layer holds on its own: markup from a permissive parser is cleaned."""
    from knowledge import rendering

    class Permissive:
        def render(self, text):
            return text

    monkeypatch.setattr(rendering, "_markdown", Permissive())
    html = render_markdown(
        '<p onclick="x()">hi</p><script>alert(1)</script><a href="javascript:x">l</a>'
        '<iframe src="https://evil.example"></iframe><div class="position-fixed">over</div>'
    )
    assert html == '<p>hi</p><a rel="noopener noreferrer nofollow">l</a>over'


def test_plain_excerpt_is_text_without_markup():
    assert plain_excerpt("# Hi & <b>there</b>\n\nSome **bold** text") == (
        "Hi & <b>there</b> Some bold text"
    )
    assert len(plain_excerpt("word " * 200, chars=50)) <= 50
