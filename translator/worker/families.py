"""What the admin's training pages read about a family from mlcore's registry. The web process
imports mlcore here, and only when such a page is shown: the config classes live in mlcore's
torch-free config modules."""


def _training(family):
    from mlcore.registry import get_family

    return get_family(family).training


def training_config_class(family):
    """The family's training config class: the admin's form is generated from it."""
    return _training(family).config_class


def dataset_layout(family):
    """The dataset layout the family trains on, in words."""
    return _training(family).dataset_layout
