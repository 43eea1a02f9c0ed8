"""What a browser would post back from an admin change page, as test data."""

from django.forms import MultiWidget


def form_values(form):
    """The values a form would post as rendered (hidden fields included)."""
    data = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        if value is None or value is False:
            continue
        if value is True:
            data[bound.html_name] = "on"
        elif isinstance(value, (list, tuple)):
            data[bound.html_name] = [str(v.pk if hasattr(v, "pk") else v) for v in value]
        elif isinstance(bound.field.widget, MultiWidget):
            # A split date and time posts as name_0 and name_1.
            for index, part in enumerate(bound.field.widget.decompress(value)):
                if part is not None:
                    data[f"{bound.html_name}_{index}"] = str(part)
        else:
            data[bound.html_name] = str(value.pk if hasattr(value, "pk") else value)
    return data


def page_data(response, **overrides):
    """The change page's form and inline formsets (management forms, rows) plus overrides."""
    context = response.context
    data = form_values(context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(form_values(formset.management_form))
        for form in formset.forms:
            data.update(form_values(form))
    data.update(overrides)
    return data
