"""services.generations on its own: seeds as people type them, and the checks a mix makes of
its sources (owner, finished, same model and version)."""
import pytest
from django.core.exceptions import ValidationError

from translator import services
from translator.models import Conversion, Generation
from translator.services.generations import parse_seeds

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed, seeds", [
    ("0-7", list(range(8))),
    ("1,5,9", [1, 5, 9]),
    ("3, 10-12", [3, 10, 11, 12]),
    ("9,1,9", [9, 1]),  # the order asked for; a repeated seed once
    (" 4 - 6 ", [4, 5, 6]),
    ([0, "2"], [0, 2]),
    ("4294967295", [2**32 - 1]),
])
def test_seeds_as_people_type_them(typed, seeds):
    assert parse_seeds(typed) == seeds


def test_more_seeds_than_the_limit_are_refused_with_the_limit(settings):
    settings.RESTYLE_MAX_SEEDS_PER_REQUEST = 4
    with pytest.raises(ValidationError, match="at most 4") as error:
        parse_seeds("0,1,2,3,4")
    assert error.value.field == "seeds"
    assert parse_seeds("0-3") == [0, 1, 2, 3]


def test_the_grid_keeps_the_seed_order_and_one_batch(user, stylegan2_model):
    rows = services.create_grid(owner=user, art_model=stylegan2_model, seeds="9,2,5")
    assert [r.seed for r in rows] == [9, 2, 5] and len({r.batch for r in rows}) == 1
    assert all(r.queue == "conversions.cpu" and r.model_version == stylegan2_model.current_version for r in rows)


def test_a_mix_refuses_another_users_image_and_an_unfinished_one(user, other_user, stylegan2_model):
    [mine] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="1")
    [theirs] = services.create_grid(owner=other_user, art_model=stylegan2_model, seeds="2")
    Generation.objects.filter(pk=theirs.pk).update(status="succeeded", latent="generations/x.npz")
    theirs.refresh_from_db()
    with pytest.raises(ValidationError, match="no such generated image"):
        services.create_mix(owner=user, art_model=stylegan2_model, source_a=5, source_b=theirs, layers="coarse")
    with pytest.raises(ValidationError, match="not finished"):
        services.create_mix(owner=user, art_model=stylegan2_model, source_a=mine, source_b=5, layers="coarse")
    assert Generation.objects.filter(kind="mix").count() == 0


def test_a_photo_conversion_without_a_latent_is_no_mix_source(user, stylegan2_model, conversion):
    Conversion.objects.filter(pk=conversion.pk).update(status="succeeded")
    conversion.refresh_from_db()
    with pytest.raises(ValidationError, match="only a finished projection"):
        services.create_mix(owner=user, art_model=stylegan2_model, source_a=1, source_b=conversion, layers="fine")


def test_a_mix_takes_truncation_and_noise_from_its_first_image(user, stylegan2_model):
    [a] = services.create_grid(owner=user, art_model=stylegan2_model, seeds="1", truncation=0.35, noise_mode="none")
    Generation.objects.filter(pk=a.pk).update(status="succeeded", latent="generations/a.npz")
    a.refresh_from_db()
    mixed = services.create_mix(owner=user, art_model=stylegan2_model, source_a=a, source_b=7, layers="middle")
    assert (mixed.truncation, mixed.noise_mode, mixed.source_b_seed, mixed.layers) == (0.35, "none", 7, "middle")
    assert mixed.mix_description == "generated image “seed 1” with the middle styles of seed 7"
