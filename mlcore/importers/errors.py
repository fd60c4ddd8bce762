"""The error every importer raises for input it cannot convert."""


class ImporterError(ValueError):
    """The source weights are missing, incomplete or not in the expected layout."""
