"""The checks a plan runs before any job: data files present, weights on this machine."""

import gzip

from crossmodal.preflight import preflight_problems


def problems(datasets=None, encoders=None, base="."):
    return preflight_problems({"datasets": datasets or {}, "encoders": encoders or {}}, base)


def test_the_embedded_default_has_nothing_to_check(tmp_path):
    assert problems({"toyworld": {"kind": "toyworld"}},
                    {"toy": {"backend": "toy"}}, tmp_path) == []


def test_a_missing_root_or_file_is_one_line_naming_the_key(tmp_path):
    (tmp_path / "coco").mkdir()
    found = problems({"coco": {"kind": "coco", "root": "coco"},
                      "inet": {"kind": "imagefolder", "root": "inet", "class_names": "n.json"},
                      "csv": {"kind": "table", "path": "pairs.csv"}}, base=tmp_path)
    assert found == ["datasets.inet.root: inet does not exist; fix the path (or `paths:`)",
                     "datasets.inet.class_names: n.json does not exist; fix the path (or `paths:`)",
                     "datasets.csv.path: pairs.csv does not exist; fix the path (or `paths:`)"]


def test_webdataset_shards_must_exist_and_be_plain_tars(tmp_path):
    (tmp_path / "ok").mkdir()
    for index in range(2):
        (tmp_path / "ok" / f"{index:05d}.tar").write_bytes(b"plain")
    assert problems({"w": {"kind": "webdataset", "shards": "ok/{00000..00001}.tar"}},
                    base=tmp_path) == []
    [missing] = problems({"w": {"kind": "webdataset", "splits": {"train": "no/{0..1}.tar"}}},
                         base=tmp_path)
    assert missing.startswith("datasets.w: ") and "shard not found" in missing
    (tmp_path / "z.tar").write_bytes(gzip.compress(b"x"))
    [compressed] = problems({"w": {"kind": "webdataset", "shards": "z.tar"}}, base=tmp_path)
    assert "gzip-compressed tar" in compressed


def test_open_clip_names_tags_and_cached_weights(tmp_path):
    random_init = {"backend": "open_clip", "name": "ViT-B-32", "pretrained": None}
    assert problems(encoders={"r": random_init}) == []
    [unknown] = problems(encoders={"u": {**random_init, "name": "ViT-Q-99"}})
    assert unknown.startswith("encoders.u: unknown open_clip architecture 'ViT-Q-99'")
    [tag] = problems(encoders={"t": {**random_init, "pretrained": "no_such_tag"}})
    assert "unknown open_clip pretrained tag 'no_such_tag' for ViT-B-32" in tag
    [uncached] = problems(encoders={"c": {**random_init, "pretrained": "openai",
                                          "cache_dir": str(tmp_path)}})
    assert "not in the local cache" in uncached and str(tmp_path) in uncached
    [file] = problems(encoders={"f": {**random_init, "pretrained": "weights/x.pt"}})
    assert "checkpoint weights/x.pt not found" in file
    checkpoint = tmp_path / "x.pt"
    checkpoint.write_bytes(b"")
    assert problems(encoders={"f": {**random_init, "pretrained": str(checkpoint)}}) == []


def test_transformers_directory_or_cached_hub_name(tmp_path):
    [uncached] = problems(encoders={"h": {"backend": "transformers", "model": "org/model",
                                          "cache_dir": str(tmp_path)}})
    assert "hf download org/model" in uncached
    directory = tmp_path / "local"
    directory.mkdir()
    [empty] = problems(encoders={"d": {"backend": "transformers", "model": str(directory)}})
    assert "no config.json in it" in empty
    (directory / "config.json").write_text("{}")
    assert problems(encoders={"d": {"backend": "transformers", "model": str(directory)}}) == []


def test_case_study_weights_and_references_are_checked(tmp_path):
    config = {
        "monosemanticity": {"image_embedder": {"kind": "transformers", "model": "vit"}},
        "case_studies": {
            "attribute": {"labeller": {"model": "org/no-such-classifier"}},
            "adversarial": {"victim": {"kind": "llava", "model": "llava"}},
            "text_to_image": {"unclip": {"pipeline": "unclip"},
                              "references": [{"image": "sketch.jpg"}, {"shape": "star"}]},
        },
    }
    (tmp_path / "vit").mkdir()
    (tmp_path / "vit" / "config.json").write_text("{}")
    (tmp_path / "llava").mkdir()  # a directory without config.json is not a model
    (tmp_path / "unclip").mkdir()
    (tmp_path / "unclip" / "model_index.json").write_text("{}")
    found = preflight_problems(config, tmp_path)
    assert found == [
        ("case_studies.attribute.labeller.model: org/no-such-classifier is neither a directory "
        "with config.json nor in the Hugging Face cache; download it "
        "(`hf download org/no-such-classifier`) or fix the path"),
        ("case_studies.adversarial.victim.model: llava is neither a directory with config.json "
        "nor in the Hugging Face cache; download it (`hf download llava`) or fix the path"),
        ("case_studies.text_to_image.references[0].image: sketch.jpg does not exist; fix the "
        "path (or `paths:`)"),
    ]
    (tmp_path / "llava" / "config.json").write_text("{}")
    (tmp_path / "sketch.jpg").write_bytes(b"jpg")
    del config["case_studies"]["attribute"]
    assert preflight_problems(config, tmp_path) == []


def test_the_toy_case_studies_have_no_weights_to_check(tmp_path):
    config = {"monosemanticity": {"image_embedder": {"kind": "toyworld_expert"}},
              "case_studies": {"adversarial": {"victim": {"kind": "encoder"}},
                               "text_to_image": {"references": [{"shape": "star"}]}}}
    assert preflight_problems(config, tmp_path) == []
