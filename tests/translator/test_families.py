"""The families the web knows (translator/models.py) are mlcore's: the same names, the same
trainable ones, and the same style-image and per-image-optimising ones.

The Django lists stay written out in translator/models.py, because the model fields' choices are
frozen into migrations and translator.models is imported by every web process (which must not
import mlcore); this test is what keeps them from drifting apart.
"""
from mlcore.registry import family_names, get_family, trainable_families
from translator.models import GENERATOR_FAMILIES, SLOW_FAMILIES, STYLE_IMAGE_FAMILIES, Family, TrainableFamily


def test_the_web_offers_exactly_the_families_mlcore_registers():
    assert sorted(Family.values) == family_names()


def test_generator_families_are_those_mlcore_says():
    # A generator family makes images from seeds (the Generate page), not from a photo.
    assert GENERATOR_FAMILIES == {name for name in family_names() if get_family(name).generator}


def test_the_families_the_admin_trains_are_those_mlcore_can_train():
    assert sorted(TrainableFamily.values) == [family.name for family in trainable_families()]
    for choice in TrainableFamily:
        assert choice.label == Family(choice.value).label


def test_style_image_and_slow_families_are_those_mlcore_says():
    families = [get_family(name) for name in family_names()]
    # A family that paints with the user's style image gets a second upload on the form.
    assert STYLE_IMAGE_FAMILIES == {f.name for f in families if f.style_image}
    # A family that optimises each picture from scratch (minutes, not a forward pass): its jobs
    # go to the slow queue.
    assert SLOW_FAMILIES == {f.name for f in families if f.optimises_each_picture}
