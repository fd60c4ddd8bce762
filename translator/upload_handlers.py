"""Where Django puts an uploaded file while the request is read: never under the client's name.

Django's own TemporaryFileUploadHandler (used for uploads over FILE_UPLOAD_MAX_MEMORY_SIZE)
names its temporary file after the client's file name extension, so a name with a 300-character
extension fails with ENAMETOOLONG, a server error, before any view runs. This handler's
temporary files are always named by `tempfile` alone; the client's name stays a label on the
uploaded-file object (Django strips its path and non-printable characters and cuts it to 255).
"""
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.core.files.uploadhandler import TemporaryFileUploadHandler as DjangoTemporaryFileUploadHandler


class SafelyNamedTemporaryUploadedFile(TemporaryUploadedFile):
    """A TemporaryUploadedFile whose file on disk has a fixed suffix, whatever the client sent."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        # TemporaryUploadedFile.__init__ would build the suffix from `name`: skip it, keep the rest
        # of the class (temporary_file_path, close) as it is.
        file = tempfile.NamedTemporaryFile(suffix=".upload", dir=settings.FILE_UPLOAD_TEMP_DIR)
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class TemporaryFileUploadHandler(DjangoTemporaryFileUploadHandler):
    def new_file(self, *args, **kwargs):
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = SafelyNamedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
