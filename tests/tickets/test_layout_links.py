"""The layout's links are reversed once per process, under the URLconf and script prefix in
force: a portal mounted under a path links under it."""

from django.template import Context, Template
from django.urls import clear_script_prefix, get_script_prefix, reverse, set_script_prefix

TEMPLATE = Template(
    "{% load layout_links %}{% layout_url 'tickets:list' %}|{% layout_url 'home' %}"
)


def test_layout_url_is_reverse_under_each_script_prefix():
    before = get_script_prefix()
    try:
        assert TEMPLATE.render(Context()) == f"{reverse('tickets:list')}|{reverse('home')}"
        set_script_prefix("/portal/")
        assert TEMPLATE.render(Context()) == "/portal/tickets/|/portal/"
        set_script_prefix("/")
        assert TEMPLATE.render(Context()) == "/tickets/|/"
    finally:
        clear_script_prefix()
        set_script_prefix(before)
