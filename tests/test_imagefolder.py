"""ImageNet-style folder reader and the 80 CLIP templates: class names from json or text, the
caption is the class prompt, a corrupt JPEG is dropped, an empty class name stops the run."""

from __future__ import annotations

import json

import open_clip.zero_shot_metadata as openai_metadata
import pytest

from crossmodal.data import (
    CLIP_TEMPLATES,
    DatasetError,
    ImageFolderSource,
    class_prompt,
    write_pairs,
    zero_shot_prompts,
)
from crossmodal.data.imagefolder import read_class_names
from datafiles import corrupt_jpeg, jpeg_bytes, png_bytes, write_file


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "imagenet" / "val"
    write_file(root / "n01440764" / "ILSVRC2012_val_00000293.JPEG", jpeg_bytes(1))
    write_file(root / "n01440764" / "ILSVRC2012_val_00002138.JPEG", jpeg_bytes(2))
    write_file(root / "n01443537" / "ILSVRC2012_val_00000236.JPEG", corrupt_jpeg())
    write_file(root / "n01443537" / "ILSVRC2012_val_00000262.png", png_bytes((0, 9, 0)))
    write_file(root / "n01443537" / "notes.txt", b"not an image")
    (root / "n01484850").mkdir()  # a class folder without images
    return root


NAMES = {"n01440764": "tench", "n01443537": "goldfish", "n01484850": "great white shark"}


def test_images_are_captioned_by_their_class_prompt(root, tmp_path):
    names = tmp_path / "names.json"
    names.write_text(json.dumps(NAMES))
    source = ImageFolderSource(root, names, split="val", threads=2)
    pairs = write_pairs(source, tmp_path / "pairs.parquet", "dataset 'inet'")
    assert pairs["pair_id"].tolist() == ["n01440764/ILSVRC2012_val_00000293.JPEG",
                                         "n01440764/ILSVRC2012_val_00002138.JPEG",
                                         "n01443537/ILSVRC2012_val_00000262.png"]
    assert pairs["caption"].tolist() == ["a photo of a tench."] * 2 + ["a photo of a goldfish."]
    assert pairs["label"].tolist() == ["tench", "tench", "goldfish"]
    assert pairs["class_index"].tolist() == [0, 0, 1]
    assert pairs["class_dir"].tolist() == ["n01440764", "n01440764", "n01443537"]
    assert pairs["image"].iloc[2] == str(root / "n01443537" / "ILSVRC2012_val_00000262.png")
    assert dict(source.dropped) == {"corrupt images": 1}


def test_custom_template_and_folder_names(root, tmp_path):
    pairs = write_pairs(ImageFolderSource(root, None, "train", "itap of a {}."),
                        tmp_path / "pairs.parquet", "d")
    assert pairs["caption"].tolist()[0] == "itap of a n01440764."
    assert set(pairs["split"]) == {"train"}


@pytest.mark.parametrize("text, expected", [
    ("n01440764 tench\nn01443537 goldfish\nn01484850 great white shark\n", NAMES),
    ("tench\ngoldfish\ngreat white shark\n", NAMES),  # CLIP's classnames.txt: sorted folders
])
def test_class_names_from_text(root, tmp_path, text, expected):
    path = tmp_path / "names.txt"
    path.write_text(text)
    assert read_class_names(path, sorted(NAMES)) == expected


def test_class_names_from_imagenet_class_index_json(tmp_path):
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps({str(i): [folder, name.replace(" ", "_")]
                                for i, (folder, name) in enumerate(NAMES.items())}))
    # the file writes spaces as underscores; prompts read "a photo of a great white shark."
    assert read_class_names(path, sorted(NAMES)) == NAMES


@pytest.mark.parametrize("names, message", [
    ({"n01440764": "tench", "n01443537": "goldfish"},
     "no name for class folder 'n01484850'; add it to the file"),
    ({**NAMES, "n01443537": "  "}, "class folder 'n01443537' has an empty name; give it one"),
])
def test_incomplete_names_stop_with_one_line(root, tmp_path, names, message):
    path = tmp_path / "names.json"
    path.write_text(json.dumps(names))
    with pytest.raises(DatasetError) as info:
        ImageFolderSource(root, path)
    assert str(info.value) == f"{path}: {message}"


def test_missing_root_and_bad_template_stop(tmp_path, root):
    with pytest.raises(DatasetError, match="image folder root not found"):
        ImageFolderSource(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="must contain exactly one"):
        ImageFolderSource(root, template="a photo")


def test_the_80_clip_templates_are_radford_et_al_s():
    assert len(CLIP_TEMPLATES) == 80 == len(set(CLIP_TEMPLATES))
    assert list(CLIP_TEMPLATES) == [t("{}") for t in openai_metadata.OPENAI_IMAGENET_TEMPLATES]
    assert CLIP_TEMPLATES[0] == "a bad photo of a {}." and CLIP_TEMPLATES[-1] == "a tattoo of the {}."


def test_zero_shot_prompts_build_one_prompt_per_template_and_class():
    prompts = zero_shot_prompts(["tench", "goldfish"])
    assert list(prompts) == ["tench", "goldfish"]
    assert len(prompts["goldfish"]) == 80
    assert prompts["tench"][39] == "a photo of a tench."
    assert prompts["goldfish"][-1] == "a tattoo of the goldfish."
    assert zero_shot_prompts(["cat"], ["{} photo", "art of a {}."]) == {
        "cat": ["cat photo", "art of a cat."]}
    assert class_prompt("cat") == "a photo of a cat."
    with pytest.raises(ValueError, match="unique"):
        zero_shot_prompts(["cat", "cat"])
