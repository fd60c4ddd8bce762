"""What an export task runs: a version's checkpoint on this machine (local_checkpoint), its
translate path written by mlcore.export.export_checkpoint into a temporary folder, which checks
the file against eager PyTorch before writing it (ExportError and no file when they differ by
more than 1/255), and the words an admin reads when it fails."""
import logging
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .checkpoints import StoredFileCorrupt, local_checkpoint

log = logging.getLogger(__name__)

# mlcore.export's words for a file that does not match eager torch (a test holds the two together).
_PARITY_WORDS = "differs from eager torch"


@contextmanager
def exported(row):
    """The ExportReport of `row` (a ModelExport with its version) for the block; its `path`, a
    file in a temporary folder, is removed after the block."""
    from mlcore.export import export_checkpoint

    with local_checkpoint(row.version) as checkpoint, tempfile.TemporaryDirectory(prefix="restyle-export-") as folder:
        report = export_checkpoint(checkpoint, Path(folder) / row.file_name(), format=row.format,
                                   size=(row.height, row.width))
        log.info("export %s: %s, %d bytes, MAE %.2e, max %.2e, %.1f s", row.pk, row.format, report.bytes,
                 report.mae, report.max_abs, report.seconds)
        yield report


def failure_reason(exc, *, export_id):
    """What to tell the admin when an export raised `exc`, for failures this server knows; None
    for any other."""
    from mlcore.checkpoint import CheckpointError
    from mlcore.export import ExportError

    if isinstance(exc, (CheckpointError, StoredFileCorrupt)):
        log.error("export %s: the model file did not load", export_id, exc_info=exc)
        return "This version's checkpoint could not be loaded, so nothing was exported."
    if isinstance(exc, ExportError):
        if _PARITY_WORDS in str(exc):
            return f"Parity check failed, nothing was kept: {exc}"
        return f"The export failed: {exc}"
    return None
