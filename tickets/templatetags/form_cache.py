"""``{% crispy_form form %}``: a form through crispy-forms, blank ones from the cache.

crispy-forms renders a field through a dozen nested templates: a blank reply form cost more
than the rest of the ticket page. A blank form's markup depends only on its class and what its
fields show (labels, help, choices, initial values), never on the request (the CSRF token is
outside it), so it is kept under a fingerprint of exactly those. A bound form shows the
visitor's input and errors and is always rendered afresh.

The store is the process's memory, not the shared cache: the markup never goes stale (a change
makes a new fingerprint), and a dictionary lookup is cheaper than a round trip to Redis.
"""

import hashlib

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import template

register = template.Library()

# A handful of forms × the sets of services customers have: bounded all the same.
MAX_ENTRIES = 512
_blank_forms = {}


def blank_form_fingerprint(form):
    shown = [type(form).__module__, type(form).__qualname__, form.prefix, form.auto_id]
    for name, field in form.fields.items():
        # Model choice fields here carry lists of choices set by their form, never a queryset
        # to read: the fingerprint costs no query.
        choices = getattr(field, "choices", None)
        shown.append(
            (
                name,
                type(field).__name__,
                type(field.widget).__name__,
                field.widget.attrs,
                str(field.label),
                str(field.help_text),
                field.required,
                list(choices) if isinstance(choices, list | tuple) else None,
                form.get_initial_for_field(field, name),
            )
        )
    return hashlib.sha256(repr(shown).encode()).hexdigest()


@register.simple_tag
def crispy_form(form):
    if form.is_bound:
        return as_crispy_form(form)
    key = blank_form_fingerprint(form)
    html = _blank_forms.get(key)
    if html is None:
        html = as_crispy_form(form)
        if len(_blank_forms) >= MAX_ENTRIES:
            _blank_forms.clear()
        _blank_forms[key] = html
    return html
