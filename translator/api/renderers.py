import json

from rest_framework.renderers import BaseRenderer


class ImageFileRenderer(BaseRenderer):
    """Lets clients that send `Accept: image/*` fetch files; errors still go out as JSON text."""

    media_type = "image/*"
    format = "image"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, (dict, list)):
            return json.dumps(data).encode()
        return data


class BinaryFileRenderer(ImageFileRenderer):
    """Lets clients that send `Accept: application/octet-stream` fetch data files (a latent .npz)."""

    media_type = "application/octet-stream"
    format = "bin"


class ZipRenderer(ImageFileRenderer):
    """Lets clients that send `Accept: application/zip` download a zip; errors go out as JSON text."""

    media_type = "application/zip"
    format = "zip"
