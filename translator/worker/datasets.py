"""A dataset's layout, checked by its family (mlcore): what a dataset check runs after every
file has passed the upload checks."""
import logging

log = logging.getLogger(__name__)


def family_report(family, folder):
    """The family's mlcore.data.DatasetReport on `folder` (layout, counts, samples, problems).
    A crash in the check becomes a problem in the report: the admin reads why."""
    from mlcore.data import DatasetReport
    from mlcore.registry import get_family

    training = get_family(family).training
    try:
        return training.inspect_dataset(folder)
    except Exception as exc:  # the report says what it can; a crash in it is a problem too
        log.exception("inspecting dataset %s failed", folder)
        return DatasetReport(layout=training.dataset_layout, counts={}, problems=(f"The layout check failed: {exc}",))
