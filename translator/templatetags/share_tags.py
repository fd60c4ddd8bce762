"""{% share_box conversion=... %} / {% share_box album=... %}: the "Share a link" box, so the
detail and album pages need one line each and no view of theirs changes."""
from django import template

from ..share_forms import ShareLinkForm

register = template.Library()


@register.inclusion_tag("translator/_share_box.html", takes_context=True)
def share_box(context, *, conversion=None, album=None):
    # Only a finished result can be shared (services.create_share_link says so too).
    shareable = album is not None or (conversion is not None and conversion.status == "succeeded" and bool(conversion.result))
    return {
        "shareable": shareable,
        "conversion": conversion,
        "album": album,
        "csrf_token": context.get("csrf_token"),
        "share_form": ShareLinkForm(for_album=album is not None, auto_id="id_share_%s"),
    }
