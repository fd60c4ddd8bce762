from django.urls import path

from . import generate_views, organise_views, share_views, views, webhook_views

app_name = "translator"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("gallery/", views.gallery, name="gallery"),
    path("gallery/<uuid:conversion_id>/", views.detail, name="detail"),
    path("gallery/<uuid:conversion_id>/delete", views.delete, name="delete"),
    path("gallery/<uuid:conversion_id>/cancel", views.cancel, name="cancel"),
    # Organising: favourites, albums, bulk actions (translator/organise_views.py).
    path("gallery/bulk", organise_views.bulk, name="bulk"),
    path("gallery/<uuid:conversion_id>/favourite", organise_views.favourite, name="favourite"),
    path("gallery/<uuid:conversion_id>/add-to-album", organise_views.add_to_album, name="add_to_album"),
    path("albums/", organise_views.albums, name="albums"),
    path("albums/<int:album_id>/", organise_views.album, name="album"),
    path("albums/<int:album_id>/rename", organise_views.album_rename, name="album_rename"),
    path("albums/<int:album_id>/delete", organise_views.album_delete, name="album_delete"),
    path("gallery/<uuid:conversion_id>/restyle", views.restyle, name="restyle"),
    path("gallery/<uuid:conversion_id>/again", views.run_again, name="run_again"),
    path("gallery/<uuid:conversion_id>/<str:kind>", views.conversion_file, name="file"),
    path("generate/", generate_views.generate, name="generate"),
    path("generate/<uuid:batch>/", generate_views.grid, name="grid"),
    path("generated/<uuid:generation_id>/", generate_views.generation, name="generation"),
    path("generated/<uuid:generation_id>/save", generate_views.save, name="generation_save"),
    path("generated/<uuid:generation_id>/cancel", generate_views.cancel, name="generation_cancel"),
    path("generated/<uuid:generation_id>/delete", generate_views.delete, name="generation_delete"),
    path("generated/<uuid:generation_id>/mix", generate_views.mix, name="generation_mix"),
    path("generated/<uuid:generation_id>/<str:kind>", generate_views.generation_file, name="generation_file"),
    path("account/webhooks/", webhook_views.webhooks, name="webhooks"),
    path("account/webhooks/secret", webhook_views.rotate_secret, name="webhook_secret"),
    path("account/webhooks/test", webhook_views.send_test, name="webhook_test"),
    path("account/webhooks/remove", webhook_views.remove, name="webhook_remove"),
    path("account/webhooks/deliveries/<uuid:delivery_id>/redeliver", webhook_views.redeliver, name="webhook_redeliver"),
    path("models/<slug:slug>/preview", views.model_preview, name="model_preview"),
    # Share links: the owner's pages, then what anyone with a link may open (share_views).
    path("shares/", share_views.shares, name="shares"),
    path("shares/new", share_views.new_share, name="share_new"),
    path("shares/<int:link_id>/revoke", share_views.revoke_share, name="share_revoke"),
    path("s/<slug:token>/", share_views.shared_page, name="shared"),
    path("s/<slug:token>/<uuid:conversion_id>/", share_views.shared_album_item, name="shared_album_item"),
    path("s/<slug:token>/<uuid:conversion_id>/<str:kind>", share_views.shared_album_file, name="shared_album_file"),
    path("s/<slug:token>/<str:kind>", share_views.shared_file, name="shared_file"),
]
