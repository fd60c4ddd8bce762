"""The one-folder dataset layout of fast-style training, as the web admin checks it."""
from PIL import Image

from mlcore.fast_style.data import dataset_inputs, inspect_dataset


def make_image(path, size=(32, 24)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (10, 20, 30)).save(path)
    return path


def test_a_style_image_and_a_content_folder_is_a_good_dataset(tmp_path):
    style = make_image(tmp_path / "style.jpg")
    for n in range(3):
        make_image(tmp_path / "content" / "sub" / f"{n}.png")
    report = inspect_dataset(tmp_path)
    assert report.ok, report.problems
    assert report.counts == {"style images": 1, "content photos": 3}
    assert report.samples[0] == style
    assert dataset_inputs(tmp_path) == {"style": str(style), "content": str(tmp_path / "content")}


def test_the_only_top_image_is_the_style_whatever_its_name(tmp_path):
    starry = make_image(tmp_path / "starry_night.webp")
    make_image(tmp_path / "content" / "a.jpg")
    assert inspect_dataset(tmp_path).ok
    assert dataset_inputs(tmp_path)["style"] == str(starry)


def test_every_problem_is_said_in_words(tmp_path):
    report = inspect_dataset(tmp_path)
    assert report.problems == (
        "There is no style image at the top of the dataset (put it there as style.jpg).",
        "There is no content/ folder of photos.",
    )
    make_image(tmp_path / "a.jpg")
    make_image(tmp_path / "b.jpg")
    (tmp_path / "content").mkdir()
    report = inspect_dataset(tmp_path)
    assert "several images at the top of the dataset (a.jpg, b.jpg)" in report.problems[0]
    assert report.problems[1] == "The content/ folder holds no photos (JPEG, PNG or WebP)."
    assert not inspect_dataset(tmp_path / "missing").ok
