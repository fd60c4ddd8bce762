"""Users' share links, for an admin to look into and to revoke (a link to something that must not
be public): they are made by their owners only, so there is no add and every field is read-only."""
from django.contrib import admin, messages

from .. import services
from ..models import ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "conversion", "album", "state", "created_at", "expires_at", "revoked_at", "views")
    list_filter = ("show_owner", "include_original")
    list_select_related = ("owner", "conversion__photo", "conversion__art_model", "album")
    search_fields = ("owner__username", "token")
    date_hierarchy = "created_at"
    readonly_fields = tuple(f.name for f in ShareLink._meta.fields)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected links")
    def revoke(self, request, queryset):
        for link in queryset:
            services.revoke_share_link(link=link)
        messages.success(request, f"Revoked {queryset.count()} link(s); they answer 404 now.")
