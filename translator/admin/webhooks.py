"""Users' webhooks and their delivery logs, for an admin answering "my receiver got nothing".
Owners make and change their hooks (the account page, the API), so there is no add and every
field is read-only; the signing secret is never shown here. An admin can send failed deliveries
again (each as a new delivery, as the owner's "send again" does) and remove a hook."""
from django.contrib import admin, messages

from .. import services
from ..models import Webhook, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("owner", "url", "created_at", "updated_at", "secret_rotated_at")
    list_select_related = ("owner",)
    search_fields = ("owner__username", "url")
    fields = ("owner", "url", "site_url", "created_at", "updated_at", "secret_rotated_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        services.delete_webhook(webhook=obj)

    def delete_queryset(self, request, queryset):
        for hook in queryset:
            services.delete_webhook(webhook=hook)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "owner", "event", "status", "attempts", "last_status_code", "last_error",
                    "next_attempt_at")
    list_filter = ("status", "event")
    list_select_related = ("webhook__owner",)
    search_fields = ("webhook__owner__username", "webhook__url", "id")
    date_hierarchy = "created_at"
    readonly_fields = tuple(f.name for f in WebhookDelivery._meta.fields)
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.display(ordering="webhook__owner__username")
    def owner(self, delivery):
        return delivery.webhook.owner

    @admin.action(description="Send the selected failed deliveries again")
    def send_again(self, request, queryset):
        sent, refused = 0, []
        for row in queryset.select_related("webhook"):
            try:
                services.redeliver(delivery_row=row)
                sent += 1
            except services.ServiceError as exc:
                refused.append(f"{row.pk}: {exc}")
        if sent:
            messages.success(request, f"Queued {sent} delivery(ies) again; each is a new row in the log.")
        for reason in refused:
            messages.warning(request, reason)
