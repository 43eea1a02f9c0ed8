"""Admins create and revoke any user's tokens; the value of a new one is shown once."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone

from . import services
from .models import ApiToken, ApiWrite


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "scope", "expires_at"]

    def clean(self):
        data = super().clean()
        try:
            services.token_validate(
                user=data.get("user"),
                name=data.get("name"),
                scope=data.get("scope"),
                expires_at=data.get("expires_at"),
            )
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                for message in messages_:
                    self.add_error(field if field in self.fields else None, message)
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "user",
        "kind",
        "scope",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_select_related = ["user"]
    list_filter = ["kind", "scope"]
    search_fields = ["name", "prefix", "user__email"]
    raw_id_fields = ["user"]
    actions = ["revoke"]
    readonly_fields = [
        "user",
        "name",
        "prefix",
        "scope",
        "kind",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    exclude = ["digest"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the writes made with it keep their token

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
            kwargs["fields"] = ApiTokenAddForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    def get_changeform_initial_data(self, request):
        return {"expires_at": timezone.now() + timedelta(days=90), "scope": ApiToken.Scope.READ}

    def save_model(self, request, obj, form, change):
        # Only the service makes tokens (prefix, digest, kind); the raw value is kept on the
        # request for response_add to show once, and nowhere else.
        data = form.cleaned_data
        token, raw = services.token_create(
            user=data["user"],
            name=data["name"],
            scope=data["scope"],
            expires_at=data["expires_at"],
            by=request.user,
        )
        obj.pk = token.pk
        request._api_token_created = (token, raw)

    def save_related(self, request, form, formsets, change):
        pass

    def log_addition(self, request, obj, message):
        return super().log_addition(request, ApiToken.objects.get(pk=obj.pk), message)

    def response_add(self, request, obj, post_url_continue=None):
        token, raw = request._api_token_created
        response = TemplateResponse(
            request,
            "admin/api/token_created.html",
            {
                **self.admin_site.each_context(request),
                "token": token,
                "raw": raw,
                "opts": self.model._meta,
                "title": "API token created",
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.token_revoke(token=token, by=request.user)
        self.message_user(request, f"{queryset.count()} token(s) revoked.")


@admin.register(ApiWrite)
class ApiWriteAdmin(admin.ModelAdmin):
    list_display = ["created_at", "method", "path", "target", "token", "user"]
    list_select_related = ["token", "user"]
    list_filter = ["method"]
    search_fields = ["path", "target", "token__prefix", "user__email"]
    raw_id_fields = ["token", "user"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
