"""What web pages read about a family from mlcore: the admin's training forms (from the
registry) and StyleGAN2's style ranges for the mix form. The web process imports mlcore here,
and only when such a page is shown or such a request made: what it reads lives in mlcore's
torch-free modules (config classes, mlcore.stylegan2.layers)."""


def _training(family):
    from mlcore.registry import get_family

    return get_family(family).training


def training_config_class(family):
    """The family's training config class: the admin's form is generated from it."""
    return _training(family).config_class


def dataset_layout(family):
    """The dataset layout the family trains on, in words."""
    return _training(family).dataset_layout


def empty_style_ranges(resolution):
    """The style ranges (coarse, middle, fine) a StyleGAN2 generator of `resolution` px has no
    layers in, e.g. ["fine"] at 32 px."""
    from mlcore.stylegan2.layers import empty_ranges

    return empty_ranges(resolution)
