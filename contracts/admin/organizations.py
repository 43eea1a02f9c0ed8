"""Organisations: members, contract (and its history), this month's hours, the usage emails
sent, and the monthly usage report of every organisation."""

import re

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from contracts import services
from contracts.models import ContractPeriod, Organization, OrganizationMember, UsageAlert
from contracts.selectors import contract_in_force, format_hours, organizations_month_usage
from core.admin import ReadOnlyInline
from core.periods import add_months, month_of, parse_month
from sla.admin_scoping import ServiceScopedAdminMixin
from sla.models import SupportContract

from ._common import usage_text

# How far ahead a contract change may be scheduled from the admin.
MONTHS_AHEAD = 12


def month_choices(current):
    choices = []
    for offset in range(MONTHS_AHEAD + 1):
        month = add_months(current, offset)
        label = f"{month:%B %Y}"
        if offset == 0:
            label += " (this month, from its first day)"
        choices.append((f"{month:%Y-%m}", label))
    return choices


class MemberForm(forms.ModelForm):
    email = forms.EmailField(label="customer's email")
    organization = None  # set by the formset (unsaved on the add page)

    class Meta:
        model = OrganizationMember
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["email"].initial = self.instance.user.email
            self.fields["email"].disabled = True

    def clean(self):
        data = super().clean()
        if self.instance.pk or not data.get("email"):
            return data
        email = data["email"]
        users = get_user_model().objects
        user = (
            users.filter(email__iexact=email).first()
            or users.filter(username__iexact=email).first()
        )
        if user is None:
            self.add_error("email", "No account uses this address: the customer signs up first.")
            return data
        problem = services.member_problem(organization=self.organization, user=user)
        if problem:
            self.add_error("email", problem)
        self.instance.user = user
        return data


class MemberFormSet(forms.BaseInlineFormSet):
    user = None  # the request's user, set by MemberInline.get_formset

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.organization = self.instance
        return form

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            email = (form.cleaned_data or {}).get("email", "").lower()
            if email and email in seen and not form.instance.pk:
                form.add_error("email", "Listed twice.")
            seen.add(email)

    def save_new(self, form, commit=True):
        return services.organization_add_member(
            organization=self.instance, user=form.instance.user, by=self.user
        )

    def save_existing(self, form, obj, commit=True):
        return obj  # nothing of a membership is edited; it is added or removed

    def delete_existing(self, obj, commit=True):
        services.organization_remove_member(organization=self.instance, user=obj.user, by=self.user)


class MemberInline(admin.TabularInline):
    model = OrganizationMember
    form = MemberForm
    formset = MemberFormSet
    extra = 1
    fields = ["email", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name_plural = "members (customers who see the hours on their dashboard)"

    def get_queryset(self, request):
        # The admin prints each row (its __str__ names the organisation) and an inline form
        # is given only the organisation's id: joined once here, not read again per row. The
        # other inlines of the page do the same.
        return super().get_queryset(request).select_related("user", "organization")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type("MemberFormSet", (formset,), {"user": request.user})


class ContractPeriodInline(ReadOnlyInline):
    """The contract history: each row holds from its month until the next row's."""

    model = ContractPeriod
    fields = ["from_month", "contract", "set_by", "updated_at"]
    readonly_fields = fields
    verbose_name_plural = "contract history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contract", "set_by", "organization")

    @admin.display(description="from")
    def from_month(self, obj):
        return f"{obj.starts_on:%B %Y}"


class UsageAlertInline(ReadOnlyInline):
    model = UsageAlert
    fields = ["month_label", "threshold", "used", "included", "created_at"]
    readonly_fields = fields
    verbose_name_plural = "usage emails sent"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")

    @admin.display(description="month")
    def month_label(self, obj):
        return f"{obj.month:%B %Y}"

    @admin.display(description="used (h)")
    def used(self, obj):
        return format_hours(obj.used_minutes)

    @admin.display(description="included (h)")
    def included(self, obj):
        return format_hours(obj.included_minutes)


class _ContractChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.service.name} — {obj}"


class OrganizationForm(forms.ModelForm):
    contract = _ContractChoice(
        queryset=SupportContract.objects.none(),
        required=False,
        empty_label="No contract",
        help_text="A contract from the service's plan; its hours are per calendar month.",
    )
    contract_from = forms.ChoiceField(
        label="contract from",
        help_text="A change applies to whole months: from this month's first day, or a later "
        "month. Past months keep their contract.",
    )

    domains = forms.CharField(
        label="email domains",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or more, separated by commas or new lines (example.com). A customer "
        "who verifies an address on one joins this organisation and its service at once. "
        "Public email services (gmail.com …) are refused.",
    )

    class Meta:
        model = Organization
        fields = ["name", "service", "colleagues_see_tickets"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.instance
        # A contract dropped from its plan is offered no more, except to whoever holds it.
        offered = Q(retired_at__isnull=True)
        contracts = SupportContract.objects.select_related("service")
        if organization.pk:
            tz = organization.service.timezone
            self.current = month_of(timezone.now(), tz)
            held = contract_in_force(organization=organization, month=self.current)
            if held is not None:
                offered |= Q(pk=held.pk)
            self.fields["contract"].queryset = contracts.filter(
                offered, service_id=organization.service_id
            ).order_by("position")
            self.fields["contract"].initial = held
        else:
            self.fields["contract"].queryset = contracts.filter(offered).order_by(
                "service__name", "position"
            )
            self.current = month_of(timezone.now(), settings.TIME_ZONE)
        self.fields["contract_from"].choices = month_choices(self.current)
        self.fields["contract_from"].initial = f"{self.current:%Y-%m}"
        if organization.pk:
            self.fields["domains"].initial = ", ".join(
                organization.email_domains.values_list("domain", flat=True)
            )

    def clean_domains(self):
        domains, errors = [], []
        for raw in re.split(r"[\s,;]+", self.cleaned_data["domains"]):
            if not raw:
                continue
            try:
                domain = services.email_domain_normalize(raw)
            except ValidationError as error:
                errors.extend(error.messages)
                continue
            problem = services.email_domain_problem(domain=domain, organization=self.instance)
            if problem:
                errors.append(problem)
            elif domain not in domains:
                domains.append(domain)
        if errors:
            raise ValidationError(errors)
        return domains

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        existing = self.instance if self.instance.pk else None
        problem = services.organization_name_problem(name=name, organization=existing)
        if problem:
            raise ValidationError(problem)
        return name

    def clean_contract_from(self):
        try:
            return parse_month(self.cleaned_data["contract_from"])
        except ValueError as exc:  # the choices allow none, but a hand-made post might
            raise ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        contract = data.get("contract")
        service = data.get("service") or (self.instance.service if self.instance.pk else None)
        if contract is not None and service is not None and contract.service_id != service.pk:
            self.add_error("contract", f"{contract.name} is a contract of {contract.service}.")
        month = data.get("contract_from")
        past = (
            service is not None
            and month is not None
            and month < month_of(timezone.now(), service.timezone)
        )
        if past:
            self.add_error("contract_from", "A past month keeps the contract it had.")
        return data

    def contract_changed(self):
        """Whether saving must set the contract (ask before the organisation is created)."""
        if self.instance._state.adding:
            return self.cleaned_data.get("contract") is not None
        return bool({"contract", "contract_from"} & set(self.changed_data))


@admin.register(Organization)
class OrganizationAdmin(ServiceScopedAdminMixin, admin.ModelAdmin):
    form = OrganizationForm
    change_list_template = "contracts/admin/organization_change_list.html"
    list_display = ["name", "service", "member_count", "contract_now", "usage_now"]
    list_filter = ["service"]
    list_select_related = ["service"]
    search_fields = ["name"]
    readonly_fields = ["usage_this_month"]
    inlines = [MemberInline, ContractPeriodInline, UsageAlertInline]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["name", "service"]}),
            ("Sign-up and colleagues", {"fields": ["domains", "colleagues_see_tickets"]}),
        ]
        if self.has_change_permission(request, obj):
            fieldsets.append(("Contract", {"fields": ["contract", "contract_from"]}))
        if obj is not None:
            fieldsets.append(("This month", {"fields": ["usage_this_month"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # Its contracts and time are the service's: the service is fixed once created.
            return [*self.readonly_fields, "service"]
        return self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # The month's usage of the page's organisations in a few queries, not per row.
        rows = list(changelist.result_list)
        usage = organizations_month_usage(organizations=rows)
        for organization in rows:
            organization.usage_now = usage.get(organization.pk)
        return changelist

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description="contract this month")
    def contract_now(self, obj):
        usage = getattr(obj, "usage_now", None)
        return usage.contract.name if usage and usage.contract else "—"

    @admin.display(description="hours this month")
    def usage_now(self, obj):
        return usage_text(getattr(obj, "usage_now", None))

    @admin.display(description="support hours")
    def usage_this_month(self, obj):
        usage = organizations_month_usage(organizations=[obj])[obj.pk]
        return f"{usage.month:%B %Y}: {usage_text(usage)}"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        set_contract = form.contract_changed()
        if change:
            organization = services.organization_rename(
                organization=obj, name=data["name"], by=request.user
            )
        else:
            organization = services.organization_create(
                name=data["name"], service=data["service"], by=request.user
            )
            # The admin goes on with ``obj`` (inlines, redirect): make it the created row.
            obj.pk, obj.created_at = organization.pk, organization.created_at
            obj._state.adding, obj._state.db = False, organization._state.db
        services.organization_set_domains(
            organization=organization, domains=data.get("domains", []), by=request.user
        )
        if organization.colleagues_see_tickets != data.get("colleagues_see_tickets", False):
            services.organization_set_colleagues_see_tickets(
                organization=organization,
                value=data.get("colleagues_see_tickets", False),
                by=request.user,
            )
        if set_contract:
            services.organization_set_contract(
                organization=organization,
                contract=data.get("contract"),
                month=data["contract_from"],
                by=request.user,
            )

    def save_formset(self, request, form, formset, change):
        formset.save()  # the formsets' save_new / delete_existing call the services

    # --- monthly usage report ---------------------------------------------------------------

    def get_urls(self):
        report = path(
            "usage/",
            self.admin_site.admin_view(self.usage_report_view),
            name="contracts_organization_usage",
        )
        return [report, *super().get_urls()]

    def usage_report_view(self, request):
        """Hours used / included / % per organisation for one month (``?month=2026-01``)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        month, error = month_of(timezone.now(), settings.TIME_ZONE), ""
        if request.GET.get("month"):
            try:
                month = parse_month(request.GET["month"])
            except ValueError as exc:
                error = str(exc)  # shown on the page: a wrong month is not quietly this one
        organizations = [] if error else self._report_organizations(request)
        usage = organizations_month_usage(organizations=organizations, month=month)
        alerts = {}
        for alert in UsageAlert.objects.filter(
            month=month, organization__in=[org.pk for org in organizations]
        ):
            alerts[(alert.organization_id, alert.threshold)] = alert
        rows = [
            {
                "organization": org,
                "usage": usage[org.pk],
                "alerts": [
                    alerts[(org.pk, threshold)]
                    for threshold in services.THRESHOLDS
                    if (org.pk, threshold) in alerts
                ],
            }
            for org in organizations
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Support hours used in {month:%B %Y}",
            "month": month,
            "previous_month": add_months(month, -1),
            "next_month": add_months(month, 1),
            "rows": rows,
            "error": error,
        }
        return TemplateResponse(
            request, "contracts/admin/usage_report.html", context, status=400 if error else 200
        )

    def _report_organizations(self, request):
        return list(self.get_queryset(request).select_related("service").order_by("name"))
