"""``{% crispy_form form %}``: a form through crispy-forms, blank ones from the cache.

crispy-forms renders a field through a dozen nested templates: a blank reply form cost more
than the rest of the ticket page. A blank form's markup depends only on its class and what its
fields show (labels, help, choices, initial values), never on the request (the CSRF token is
outside it), so it is kept under a fingerprint of exactly those. A bound form shows the
visitor's input and errors and is always rendered afresh.

The fingerprint must see every choice the markup shows, or one visitor's options (their
services, their colleagues) would be served to the next: choices are taken only as a list or
tuple set by the form. A field whose choices are read lazily (a queryset, a callable, an
iterator) makes ``{% crispy_form %}`` refuse the form with ``ImproperlyConfigured`` naming the
field, rather than cache markup it cannot tell apart; render such a form with crispy's own
``|crispy`` filter, or set the field's ``choices`` to a list in the form's ``__init__``.

The store is the process's memory, not the shared cache: the markup never goes stale (a change
makes a new fingerprint), and a dictionary lookup is cheaper than a round trip to Redis.
"""

import hashlib

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import template
from django.core.exceptions import ImproperlyConfigured

register = template.Library()

# A handful of forms × the sets of services customers have: bounded all the same.
MAX_ENTRIES = 512
_blank_forms = {}


def blank_form_fingerprint(form):
    shown = [
        type(form).__module__,
        type(form).__qualname__,
        form.prefix,
        form.auto_id,
        form.use_required_attribute,
    ]
    for name, field in form.fields.items():
        shown.append(
            (
                name,
                type(field).__name__,
                type(field.widget).__name__,
                field.widget.attrs,
                [(type(w).__name__, w.attrs) for w in getattr(field.widget, "widgets", ())],
                str(field.label),
                str(field.help_text),
                field.required,
                field.disabled,
                _static_choices(form, name, field),
                form.get_initial_for_field(field, name),
            )
        )
    return hashlib.sha256(repr(shown).encode()).hexdigest()


def _static_choices(form, name, field):
    """The choices the field and its widget show (and, for a ``MultiWidget``, each widget
    inside it), as plain data; refuses lazy ones."""
    found = []
    for owner in (field, field.widget, *getattr(field.widget, "widgets", ())):
        choices = getattr(owner, "choices", None)
        if choices is None:
            found.append(None)
        elif isinstance(choices, list | tuple):
            found.append(list(choices))
        else:
            raise ImproperlyConfigured(
                f"{{% crispy_form %}} cannot cache {type(form).__name__}: the choices of its "
                f"field {name!r} are a {type(choices).__name__}, read per request, so two "
                "visitors' options would share one cached form. Set the field's choices to a "
                "list in the form, or render this form with crispy's |crispy filter."
            )
    return found


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
