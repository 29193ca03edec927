"""COCO captions 2017 as a PairSource: one pair per caption, as paper B uses it.

The release is read from ``root``::

    root/annotations/captions_{split}2017.json   {"images": [{"id", "file_name"}, ...],
                                                  "annotations": [{"id", "image_id", "caption"}]}
    root/annotations/instances_{split}2017.json  optional: {"categories": [{"id", "name"}],
                                                  "annotations": [{"image_id", "category_id",
                                                  "area"}, ...]}
    root/{split}2017/{file_name}                 the images

Records, ordered by image id then caption id: ``pair_id`` = ``"{image_id}/{caption id}"``
(unique per caption; the five captions of an image share the image), ``image`` = the image
file's absolute path, ``caption`` = the stripped caption, and the labels ``image_id`` (int)
and, when the instances file is present, ``categories`` (the image's category names joined by
``;``, by total instance area, largest first; ``""`` for an image without instances) and
``label`` (the largest-area category, None without instances) — a classification target.

Dropped and counted: empty captions, captions of images missing from ``images``, and the
captions of image files that are missing or do not decode (each such image counted too).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from crossmodal.data.source import DatasetError, PairRecord, PairSource, check_files

SPLITS = ("train", "val")
LAYOUT_FIX = "point `root` at the COCO directory that holds annotations/ and {split}2017/"


def _load_json(path: Path, fix: str) -> dict:
    if not path.is_file():
        raise DatasetError(f"{path}: file not found; {fix}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: malformed JSON ({error}); restore the file from the COCO "
                           "2017 annotations") from None
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise DatasetError(f"{path}: no 'annotations' list; restore the file from the COCO 2017 "
                           "annotations")
    return data


def _field(entry, name: str, kind, path: Path):
    if not isinstance(entry, dict) or not isinstance(entry.get(name), kind):
        raise DatasetError(f"{path}: an entry lacks {kind.__name__} {name!r} ({entry!r:.80}); "
                           "restore the file from the COCO 2017 annotations")
    return entry[name]


def image_categories(path: Path) -> dict[int, list[str]]:
    """{image id: category names by total instance area, largest first} of an instances file."""
    data = _load_json(path, "")
    names = {_field(c, "id", int, path): _field(c, "name", str, path)
             for c in data.get("categories", [])}
    area: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for entry in data["annotations"]:
        category = _field(entry, "category_id", int, path)
        if category not in names:
            raise DatasetError(f"{path}: category id {category} is not in 'categories'; restore "
                               "the file from the COCO 2017 annotations")
        area[_field(entry, "image_id", int, path)][category] += float(entry.get("area", 0.0))
    return {image: [names[c] for c, _ in sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))]
            for image, per in area.items()}


class CocoSource(PairSource):
    """COCO 2017 captions of one split (``train`` or ``val``), stored under ``split_name``."""

    kind = "coco"

    def __init__(self, root: str | Path, split: str = "val", split_name: str | None = None,
                 threads: int = 1, progress_file=None) -> None:
        super().__init__()
        if split not in SPLITS:
            raise DatasetError(f"split {split!r}: COCO 2017 has splits {', '.join(SPLITS)}; "
                               "pass one of them")
        self.root, self.split = Path(root), split
        self.split_name = split_name or split
        self.threads, self.progress_file = threads, progress_file
        fix = LAYOUT_FIX.format(split=split)
        if not self.root.is_dir():
            raise DatasetError(f"{self.root}: COCO root not found; {fix}")
        self.images_dir = self.root / f"{split}2017"
        if not self.images_dir.is_dir():
            raise DatasetError(f"{self.images_dir}: image directory not found; {fix}")
        self.captions_path = self.root / "annotations" / f"captions_{split}2017.json"
        self.captions = _load_json(self.captions_path, fix)
        self.files = self._image_files()
        instances = self.root / "annotations" / f"instances_{split}2017.json"
        self.categories = image_categories(instances) if instances.is_file() else None
        self.label_columns = ("image_id",) + (("label", "categories") if self.categories
                                              is not None else ())

    def describe(self) -> dict[str, str]:
        return {"kind": self.kind, "root": str(self.root), "source_split": self.split}

    def _image_files(self) -> dict[int, str]:
        path = self.captions_path
        return {_field(e, "id", int, path): str(self.images_dir / _field(e, "file_name", str,
                                                                          path))
                for e in self.captions.get("images", [])}

    def _usable_images(self, captioned: dict[int, list]) -> dict[int, str]:
        """{image id: file} of the captioned images whose files decode (the rest counted)."""
        files = self.files
        ids = sorted(captioned)
        results = check_files([files[i] for i in ids], self.threads, "check COCO images",
                              self.progress_file)
        usable = {}
        for image_id, reason in zip(ids, results):
            if reason is None:
                usable[image_id] = files[image_id]
            else:
                self.dropped[reason] += 1
                self.dropped["captions of unusable images"] += len(captioned[image_id])
        return usable

    def _captions_by_image(self) -> dict[int, list[tuple[int, str]]]:
        files = self.files
        by_image: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for entry in self.captions["annotations"]:
            caption = _field(entry, "caption", str, self.captions_path).strip()
            image_id = _field(entry, "image_id", int, self.captions_path)
            if not caption:
                self.dropped["empty captions"] += 1
            elif image_id not in files:
                self.dropped["captions of images not in 'images'"] += 1
            else:
                by_image[image_id].append((_field(entry, "id", int, self.captions_path),
                                           caption))
        return by_image

    def _labels(self, image_id: int) -> dict:
        labels: dict = {"image_id": image_id}
        if self.categories is not None:
            names = self.categories.get(image_id, [])
            labels.update(label=names[0] if names else None, categories=";".join(names))
        return labels

    def records(self) -> Iterator[PairRecord]:
        by_image = self._captions_by_image()
        usable = self._usable_images(by_image)
        for image_id in sorted(usable):
            labels = self._labels(image_id)
            for caption_id, caption in sorted(by_image[image_id]):
                yield PairRecord(f"{image_id}/{caption_id}", self.split_name, caption,
                                 usable[image_id], labels=labels)
