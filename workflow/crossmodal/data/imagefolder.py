"""ImageNet-style class folders as a PairSource: each image captioned by its class's prompt.

Layout: ``root/{class_dir}/*.{jpg,jpeg,png,webp,…}`` (any case, e.g. ImageNet's ``.JPEG``);
one folder per class. Human class names come from ``class_names``, a file in one of the forms

* JSON object ``{class_dir: name}`` (a list value: its first entry is the name), or the
  ``imagenet_class_index.json`` form ``{"0": [class_dir, name], …}``, whose underscores are
  read as spaces (``great_white_shark`` → "great white shark", as CLIP's prompts write it);
* text, one class per line: ``class_dir name with spaces`` (first token = folder), or — when no
  line starts with a folder name — just the names, one per folder in sorted folder order
  (CLIP's ``classnames.txt``).

Without ``class_names`` a folder's name is its class name (underscores shown as spaces).

Records, ordered by folder then file name: ``pair_id`` = ``"{class_dir}/{file name}"``,
``image`` = the file's absolute path, ``caption`` = ``template`` with the class name
(default ``"a photo of a {}."``; the 80 CLIP templates are :data:`CLIP_TEMPLATES`), and the
labels ``label`` (class name), ``class_dir`` and ``class_index`` (int, sorted folder order).
Dropped and counted: image files that do not decode; class folders without images are logged.
A folder the names file lacks, or an empty class name, stops with one line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from crossmodal.data.source import (
    IMAGE_SUFFIXES,
    DatasetError,
    PairRecord,
    PairSource,
    check_files,
)
from crossmodal.data.templates import DEFAULT_TEMPLATE, class_prompt

logger = logging.getLogger(__name__)


def class_folders(root: Path) -> list[str]:
    """The sorted names of the class folders under ``root``; DatasetError if there are none."""
    if not root.is_dir():
        raise DatasetError(f"{root}: image folder root not found; point `root` at the directory "
                           "with one sub-folder per class")
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(f"{root}: no class folders; point `root` at the directory with one "
                           "sub-folder per class")
    return folders


def _names_from_json(path: Path, folders: list[str]) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: malformed JSON ({error}); write {{class_dir: name}}") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a JSON object {{class_dir: name}}; rewrite it")
    values = list(data.values())
    if values and all(isinstance(v, list) and len(v) == 2 for v in values) \
            and not set(data) & set(folders):
        # {"0": [class_dir, name]}: Keras' file, whose names write spaces as underscores
        return {str(v[0]): str(v[1]).replace("_", " ") for v in values}
    return {str(k): str(v[0] if isinstance(v, list) and v else v) for k, v in data.items()}


def _names_from_text(path: Path, folders: list[str]) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    split = [line.split(maxsplit=1) for line in lines]
    if any(parts[0] in folders for parts in split):
        return {parts[0]: parts[1] if len(parts) > 1 else "" for parts in split}
    if len(lines) != len(folders):
        raise DatasetError(f"{path}: {len(lines)} names for {len(folders)} class folders and no "
                           "line starts with a folder name; write 'class_dir name' lines")
    return dict(zip(folders, lines))


def read_class_names(path: str | Path | None, folders: list[str]) -> dict[str, str]:
    """{class_dir: human name} for every folder (module docstring formats)."""
    if path is None:
        return {folder: folder.replace("_", " ") for folder in folders}
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: class names file not found; fix `class_names` or remove it "
                           "to use the folder names")
    reader = _names_from_json if path.suffix.lower() == ".json" else _names_from_text
    names = reader(path, folders)
    for folder in folders:
        if folder not in names:
            raise DatasetError(f"{path}: no name for class folder {folder!r}; add it to the file")
        if not names[folder].strip():
            raise DatasetError(f"{path}: class folder {folder!r} has an empty name; give it one")
    return {folder: names[folder].strip() for folder in folders}


class ImageFolderSource(PairSource):
    """Every image of ``root``'s class folders, as one split ``split``."""

    kind = "imagefolder"
    label_columns = ("label", "class_dir", "class_index")

    def __init__(self, root: str | Path, class_names: str | Path | None = None,
                 split: str = "val", template: str = DEFAULT_TEMPLATE, threads: int = 1,
                 progress_file=None) -> None:
        super().__init__()
        self.root, self.split, self.template = Path(root), split, template
        class_prompt("", template)  # a template without '{}' stops here
        self.folders = class_folders(self.root)
        self.names = read_class_names(class_names, self.folders)
        self.threads, self.progress_file = threads, progress_file

    def describe(self) -> dict[str, str]:
        return {"kind": self.kind, "root": str(self.root), "template": self.template,
                "classes": json.dumps(self.names)}

    def _files(self) -> list[tuple[int, Path]]:
        files = []
        for index, folder in enumerate(self.folders):
            images = sorted(p for p in (self.root / folder).iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not images:
                logger.info("%s: class folder without images", self.root / folder)
            files += [(index, path) for path in images]
        return files

    def records(self) -> Iterator[PairRecord]:
        files = self._files()
        results = check_files([path for _, path in files], self.threads, "check images",
                              self.progress_file)
        for (index, path), reason in zip(files, results):
            if reason is not None:
                self.dropped[reason] += 1
                continue
            folder = self.folders[index]
            name = self.names[folder]
            yield PairRecord(f"{folder}/{path.name}", self.split,
                             class_prompt(name, self.template), str(path.resolve()),
                             labels={"label": name, "class_dir": folder, "class_index": index})


def class_names_of(pairs, label: str = "label", index: str = "class_index") -> list[str]:
    """The class names of an imagefolder ``pairs`` frame, in ``class_index`` order (the order of
    the zero-shot classifier's rows); DatasetError if the frame has no class column."""
    if label not in pairs.columns:
        raise DatasetError(f"pairs have no class column {label!r} (columns: "
                           f"{sorted(pairs.columns)}); zero-shot classes need an imagefolder "
                           "dataset")
    frame = pairs[[label, index]] if index in pairs.columns else pairs[[label]]
    frame = frame.dropna(subset=[label])
    if index in frame.columns:
        frame = frame.sort_values(index, kind="stable")
    return list(dict.fromkeys(frame[label].astype(str)))
