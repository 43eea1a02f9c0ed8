"""``{% crispy_form %}`` keeps blank forms' markup for every visitor of the process: it must
never serve one visitor's choices to another. Choices it cannot see (a queryset, a callable)
are refused loudly; everything it can see tells forms apart."""

import re

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured

from tickets.templatetags import form_cache


class ColleagueForm(forms.Form):
    """As a per-visitor form would be written: the choices come from the visitor's queryset."""

    user = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, visitor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.exclude(pk=visitor.pk)


class ServiceForm(forms.Form):
    service = forms.ChoiceField(choices=[])
    note = forms.CharField(required=False)

    def __init__(self, *args, services, locked=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [(slug, slug.title()) for slug in services]
        self.fields["note"].disabled = locked


@pytest.fixture(autouse=True)
def empty_cache():
    form_cache._blank_forms.clear()
    yield
    form_cache._blank_forms.clear()


@pytest.mark.django_db
def test_a_form_whose_choices_are_a_queryset_is_refused_not_cached():
    """Cached under a fingerprint that cannot see the queryset's rows, the first visitor's
    colleagues would be the options every later visitor is shown."""
    first, second = (
        get_user_model().objects.create_user(username=name, email=f"{name}@example.com")
        for name in ("first", "second")
    )
    for visitor in (first, second):
        with pytest.raises(ImproperlyConfigured, match="'user'.*ModelChoiceIterator"):
            form_cache.crispy_form(ColleagueForm(visitor=visitor))
    assert form_cache._blank_forms == {}


def test_callable_choices_are_refused_too():
    form = forms.Form()
    form.fields["pick"] = forms.ChoiceField(choices=lambda: [("a", "A")])
    with pytest.raises(ImproperlyConfigured, match="'pick'"):
        form_cache.crispy_form(form)


def test_different_choices_are_different_forms():
    mine = form_cache.crispy_form(ServiceForm(services=["alpha"]))
    theirs = form_cache.crispy_form(ServiceForm(services=["beta"]))
    assert "Alpha" in mine and "Beta" not in mine
    assert "Beta" in theirs and "Alpha" not in theirs
    assert form_cache.crispy_form(ServiceForm(services=["alpha"])) == mine
    assert len(form_cache._blank_forms) == 2


def test_a_disabled_field_is_a_different_form():
    open_form = form_cache.crispy_form(ServiceForm(services=["alpha"]))
    locked = form_cache.crispy_form(ServiceForm(services=["alpha"], locked=True))
    assert "disabled" in locked and "disabled" not in open_form


class PhoneWidget(forms.MultiWidget):
    def decompress(self, value):
        return value.split(" ", 1) if value else [None, None]


def phone_form(countries):
    """A field whose options live on a widget inside a ``MultiWidget``, set per visitor."""
    form = forms.Form()
    widget = PhoneWidget([forms.Select(choices=[(c, c) for c in countries]), forms.TextInput()])
    form.fields["phone"] = forms.CharField(widget=widget)
    return form


def test_choices_inside_a_multiwidget_tell_forms_apart():
    """The options of a ``MultiWidget``'s inner select are in the markup, so in the fingerprint:
    the second visitor never gets the first one's options."""
    mine = form_cache.crispy_form(phone_form(["+44"]))
    theirs = form_cache.crispy_form(phone_form(["+33"]))
    assert "+44" in mine and "+33" not in mine
    assert "+33" in theirs and "+44" not in theirs


def test_lazy_choices_inside_a_multiwidget_are_refused():
    form = phone_form([])
    form.fields["phone"].widget.widgets[0].choices = lambda: [("+1", "+1")]
    with pytest.raises(ImproperlyConfigured, match="'phone'"):
        form_cache.crispy_form(form)


def test_what_the_widgets_inside_a_multiwidget_show_tells_forms_apart():
    """An inner widget's attributes (a placeholder naming the visitor) are in the markup."""

    def form_for(email):
        form = phone_form(["+44"])
        form.fields["phone"].widget.widgets[1].attrs["placeholder"] = email
        return form

    mine = form_cache.crispy_form(form_for("ann@example.com"))
    theirs = form_cache.crispy_form(form_for("bob@example.com"))
    assert "ann@" in mine and "bob@" in theirs and "ann@" not in theirs


class NameForm(forms.Form):
    name = forms.CharField()


def test_a_form_that_asks_for_no_required_attribute_is_a_different_form():
    """``use_required_attribute=False`` (set per instance) changes the inputs' markup."""
    plain = form_cache.crispy_form(NameForm())
    unmarked = form_cache.crispy_form(NameForm(use_required_attribute=False))
    attribute = re.compile(r"<input[^>]*\srequired[\s>]")
    assert attribute.search(plain) and not attribute.search(unmarked)
