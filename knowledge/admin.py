"""Staff write articles here; every save is a version, and any version can be restored.

The admin displays and delegates: saves, restores and drafts-from-tickets go through
``knowledge.services``. Articles are scoped like every service's rows (``StaffService``).

The ticket list gains an action, "Turn the answer into a knowledge-base draft", added from
here: knowledge builds on tickets, and tickets does not know about knowledge (as contracts adds
its inlines to the ticket page).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.admin import ReadOnlyInline, ServiceWritesAdmin, error_text
from sla.admin_scoping import ServiceScopedAdminMixin
from tickets.admin import ServiceFilter, TicketAdmin

from . import services
from .models import Article, ArticleVersion
from .rendering import render_markdown


class ArticleVersionInline(ReadOnlyInline):
    model = ArticleVersion
    fields = ["number", "created_at", "created_by", "note", "title", "status", "visibility"]
    readonly_fields = [*fields, "restore"]
    verbose_name_plural = "history (each saved change; restore any of them)"
    ordering = ["-number"]

    def get_fields(self, request, obj=None):
        return [*self.fields, "restore"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "article")

    @admin.display(description="")
    def restore(self, obj):
        if obj.number == obj.article.version:
            return "current"
        url = reverse("admin:knowledge_article_restore", args=[obj.article_id, obj.number])
        return format_html('<a href="{}">View or restore</a>', url)


@admin.register(Article)
class ArticleAdmin(ServiceScopedAdminMixin, ServiceWritesAdmin):
    # A save is a service call; a refusal saves nothing, logs nothing and says why.
    refused_text = "Not saved"
    list_display = [
        "title",
        "service",
        "status",
        "visibility",
        "version",
        "solved_count",
        "updated_at",
    ]
    list_filter = [ServiceFilter, "status", "visibility"]
    list_select_related = ["service"]
    search_fields = ["title", "body"]
    ordering = ["service__name", "title"]
    fields = ["service", "title", "slug", "body", "status", "visibility"]
    readonly_fields = [
        "version",
        "solved_count",
        "source_ticket_link",
        "created_at",
        "updated_at",
        "published_at",
    ]
    inlines = [ArticleVersionInline]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": self.fields}),
            ("Record", {"fields": self.readonly_fields}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["slug"].required = False
        form.base_fields[
            "slug"
        ].help_text = "The article's address under /kb/<service>/. Left empty: made from the title."
        form.base_fields["body"].help_text = (
            "Markdown: # headings, **bold**, lists, `code`, [links](https://…), tables. "
            "HTML is shown as text. Drafts are seen by staff only; customers-only articles by "
            "the service's signed-in customers."
        )
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["service", *self.readonly_fields]  # an article stays in its service
        return self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service", "source_ticket")

    @admin.display(description="from ticket")
    def source_ticket_link(self, obj):
        if obj.source_ticket is None:
            return "—"
        url = reverse("admin:tickets_ticket_change", args=[obj.source_ticket_id])
        return format_html('<a href="{}">{}</a>', url, obj.source_ticket.number)

    def write(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {name: data[name] for name in ("title", "body", "status", "visibility")}
        slug = data.get("slug") or ""
        if change:
            saved = services.article_update(article=obj, by=request.user, slug=slug, **fields)
        else:
            saved = services.article_create(
                service=data["service"], by=request.user, slug=slug, **fields
            )
        # The admin goes on with ``obj`` (inlines, messages, redirect): make it the saved row.
        for field in Article._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding, obj._state.db = False, saved._state.db

    # --- restore a version -----------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/restore/<int:number>/",
                self.admin_site.admin_view(self.restore_view),
                name="knowledge_article_restore",
            ),
            *super().get_urls(),
        ]

    def restore_view(self, request, object_id, number):
        """GET: the version beside the current text; POST: restore it as a new version."""
        article = self.get_object(request, object_id)
        if article is None or not self.has_view_permission(request, article):
            raise Http404("No such article.")
        version = article.versions.filter(number=number).select_related("created_by").first()
        if version is None:
            raise Http404("No such version.")
        may_restore = self.has_change_permission(request, article)
        change_url = reverse("admin:knowledge_article_change", args=[article.pk])
        if request.method == "POST":
            if not may_restore:
                raise PermissionDenied
            try:
                services.article_restore(article=article, number=number, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"Not restored: {error_text(exc)}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Version {number} restored as the article's newest version.",
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/knowledge/article/restore_confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Version {number} of “{article.title}”",
                "article": article,
                "version": version,
                "version_body": render_markdown(version.body),
                "current_body": render_markdown(article.body),
                "may_restore": may_restore,
                "change_url": change_url,
            },
        )


# --- the ticket list's action --------------------------------------------------------------


@admin.action(description="Turn the answer into a knowledge-base draft")
def make_article_draft(modeladmin, request, queryset):
    """A draft article per selected resolved ticket, from its subject and the staff's last
    public reply; a ticket already turned into one leads to that article again."""
    if not request.user.has_perm("knowledge.add_article"):
        modeladmin.message_user(request, "You may not write articles.", messages.ERROR)
        return None
    made = []
    for ticket in queryset.select_related("service").order_by("id"):
        try:
            article, _ = services.article_from_ticket(ticket=ticket, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(
                request, f"{ticket.number}: no draft, {error_text(exc)}", messages.ERROR
            )
        else:
            made.append((ticket, article))
    if len(made) == 1:
        return HttpResponseRedirect(reverse("admin:knowledge_article_change", args=[made[0][1].pk]))
    if made:
        modeladmin.message_user(
            request,
            format_html(
                "Drafts to edit and publish: {}",
                format_html_join(
                    ", ",
                    '<a href="{}">{} ({})</a>',
                    (
                        (
                            reverse("admin:knowledge_article_change", args=[article.pk]),
                            article.title,
                            ticket.number,
                        )
                        for ticket, article in made
                    ),
                ),
            ),
            messages.SUCCESS,
        )
    return None


TicketAdmin.actions = [*TicketAdmin.actions, make_article_draft]
