"""Writes: every change to translator data goes through these functions.

Views, API views, admin actions and tasks stay thin and call these. Arguments are keyword-only.
One module per subject; the names are gathered here so callers say `services.create_conversion`.
"""
from .catalogue import add_model_version, import_model, render_model_preview, set_model_preview, set_version_device_class
from .conversions import (
    cancel_conversion,
    cancel_requested,
    claim_conversion,
    create_conversion,
    delete_conversion,
    fail_conversion,
    finish_conversion,
    mark_cancelled,
    record_progress,
    renew_lease,
    sweep_conversions,
)
from .datasets import (
    DatasetArchiveError,
    allowed_server_folder,
    check_dataset,
    claim_dataset_check,
    create_dataset,
    delete_dataset_files,
    recheck_dataset,
    renew_dataset_lease,
    sweep_datasets,
    unpack_zip,
)
from .delivery import fenced, keep_lease
from .errors import ServiceError
from .generations import (
    MixSource,
    claim_generation,
    create_grid,
    create_mix,
    delete_generation,
    fail_generation,
    finish_generation,
    renew_generation_lease,
    save_generation,
    sweep_generations,
)
from .training import (
    beat,
    claim_run,
    clone_run,
    create_run,
    delete_run_files,
    fail_run,
    finish_run,
    max_processes,
    processes_problem,
    publish_version,
    record_run_progress,
    run_stopped,
    start_run,
    stop_requested,
    stop_run,
    sweep_runs,
)


def sweep():
    """Settle every job a fault left behind, of every kind (the sweeper's one call)."""
    return {"conversions": sweep_conversions(), "runs": sweep_runs(), "datasets": sweep_datasets(),
            "generations": sweep_generations()}


__all__ = [
    "MixSource",
    "create_grid",
    "create_mix",
    "save_generation",
    "delete_generation",
    "claim_generation",
    "renew_generation_lease",
    "finish_generation",
    "fail_generation",
    "sweep_generations",
    "ServiceError",
    "max_processes",
    "processes_problem",
    "add_model_version",
    "set_model_preview",
    "set_version_device_class",
    "import_model",
    "render_model_preview",
    "create_conversion",
    "claim_conversion",
    "renew_lease",
    "sweep_conversions",
    "record_progress",
    "cancel_requested",
    "cancel_conversion",
    "mark_cancelled",
    "finish_conversion",
    "fail_conversion",
    "delete_conversion",
    "DatasetArchiveError",
    "create_dataset",
    "allowed_server_folder",
    "check_dataset",
    "recheck_dataset",
    "claim_dataset_check",
    "renew_dataset_lease",
    "sweep_datasets",
    "fenced",
    "keep_lease",
    "sweep",
    "unpack_zip",
    "delete_dataset_files",
    "create_run",
    "start_run",
    "stop_run",
    "clone_run",
    "claim_run",
    "record_run_progress",
    "beat",
    "stop_requested",
    "run_stopped",
    "fail_run",
    "finish_run",
    "sweep_runs",
    "delete_run_files",
    "publish_version",
]
