"""FashionIQ (Wu et al. 2021) as ``pairs`` and ``edits`` frames, like toyworld's edit triplets.

Paper B appendix J evaluates vector arithmetic on FashionIQ: the query is a source (candidate)
image plus the relative captions, the answer the target image among the split's gallery. The
public release is read from ``root``::

    root/captions/cap.{category}.{split}.json      [{"candidate", "target", "captions"}, ...]
    root/image_splits/split.{category}.{split}.json  [image id, ...] (the retrieval gallery)
    root/images/{image id}.png                     (or .jpg / .jpeg; images/{category}/ too)

:func:`read_fashioniq` returns two frames in the formats of the toyworld dataset:

* ``pairs`` — one row per gallery image of the split: ``pair_id`` (``"{category}/{image id}"``),
  ``split``, ``image`` (the file's PNG/JPEG bytes), ``caption`` and ``category``. FashionIQ
  images carry no caption of their own, so ``caption`` is the category prompt
  ``"a photo of a {category}"``; arithmetic uses only the image side of these pairs.
* ``edits`` — ONE ROW PER RELATIVE CAPTION: ``edit_id`` (int; the rows of one triplet share it),
  ``source_pair_id``, ``target_pair_id``, ``family`` (the category) and ``relative_caption``.
  Paper B joins the two captions of a triplet and averages their embeddings; keeping each
  caption as its own row allows that mean (:func:`mean_caption_embeddings`) and any other
  pooling.

Dropped items (empty captions, triplets left without a caption, test entries without a target,
corrupt image files and the triplets that use them) are counted and logged; input that cannot be
read as FashionIQ raises :class:`FashionIQError` with one line naming the file and the fix.
"""

from __future__ import annotations

from crossmodal.errors import CrossmodalError
import io
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)

CATEGORIES = ("dress", "shirt", "toptee")
SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
PAIR_COLUMNS = ["pair_id", "split", "image", "caption", "category"]
EDIT_COLUMNS = ["edit_id", "source_pair_id", "target_pair_id", "family", "relative_caption"]
LAYOUT_FIX = ("point `root` at the FashionIQ directory that holds captions/, image_splits/ "
              "and images/")


class FashionIQError(CrossmodalError):
    """FashionIQ input that cannot be read; the one-line message names the file and the fix."""


@dataclass(frozen=True)
class Triplet:
    """One FashionIQ annotation: candidate and target image ids and the non-empty captions."""

    candidate: str
    target: str
    captions: tuple[str, ...]


def category_prompt(category: str) -> str:
    """The stand-in caption of a FashionIQ image (the dataset has none): ``a photo of a …``."""
    return f"a photo of a {category}"


def captions_path(root: Path, category: str, split: str) -> Path:
    return root / "captions" / f"cap.{category}.{split}.json"


def gallery_path(root: Path, category: str, split: str) -> Path:
    return root / "image_splits" / f"split.{category}.{split}.json"


def _load_json_list(path: Path) -> list:
    """The top-level JSON list of ``path``; FashionIQError if missing, malformed or not a list."""
    if not path.is_file():
        raise FashionIQError(f"{path}: file not found; {LAYOUT_FIX}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FashionIQError(f"{path}: malformed JSON ({error}); restore the file from the "
                             "FashionIQ release") from error
    if not isinstance(data, list):
        raise FashionIQError(f"{path}: expected a JSON list, found {type(data).__name__}; "
                             "restore the file from the FashionIQ release")
    return data


def _has_candidate_and_captions(entry) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("candidate"), str)
            and isinstance(entry.get("captions"), list))


def _parse_triplet(entry, path: Path, index: int, split: str, counts: Counter
                   ) -> Triplet | None:
    """A :class:`Triplet` from one caption entry; None when it is skipped (counted)."""
    if not _has_candidate_and_captions(entry):
        raise FashionIQError(f"{path}: entry {index} lacks a string 'candidate' or a list "
                             "'captions'; restore the file from the FashionIQ release")
    target = entry.get("target")
    if target is None and split == "test":
        counts["test entries without target"] += 1
        return None
    if not isinstance(target, str):
        raise FashionIQError(f"{path}: entry {index} lacks a string 'target'; restore the file "
                             "from the FashionIQ release")
    if not all(isinstance(caption, str) for caption in entry["captions"]):
        raise FashionIQError(f"{path}: entry {index} has a caption that is not a string; "
                             "restore the file from the FashionIQ release")
    captions = tuple(c.strip() for c in entry["captions"] if c.strip())
    counts["empty captions"] += len(entry["captions"]) - len(captions)
    if not captions:
        counts["triplets without a caption"] += 1
        return None
    return Triplet(entry["candidate"], target, captions)


def read_triplets(root: Path, category: str, split: str, counts: Counter) -> list[Triplet]:
    """The usable triplets of ``captions/cap.{category}.{split}.json``, in file order."""
    path = captions_path(root, category, split)
    parsed = (_parse_triplet(entry, path, i, split, counts)
              for i, entry in enumerate(_load_json_list(path)))
    return [triplet for triplet in parsed if triplet is not None]


def read_gallery(root: Path, category: str, split: str) -> list[str]:
    """The image ids of ``image_splits/split.{category}.{split}.json``, in file order."""
    path = gallery_path(root, category, split)
    ids = _load_json_list(path)
    if not all(isinstance(image_id, str) for image_id in ids):
        raise FashionIQError(f"{path}: expected a JSON list of image id strings; restore the "
                             "file from the FashionIQ release")
    return ids


def find_image(root: Path, category: str, image_id: str) -> Path:
    """The file of ``image_id`` under ``images/`` or ``images/{category}/`` (png, jpg, jpeg)."""
    directories = (root / "images", root / "images" / category)
    for directory in directories:
        for suffix in IMAGE_SUFFIXES:
            candidate = directory / f"{image_id}{suffix}"
            if candidate.is_file():
                return candidate
    searched = ", ".join(str(d) for d in directories)
    raise FashionIQError(f"image {image_id!r} ({category}): no {'/'.join(IMAGE_SUFFIXES)} file "
                         f"in {searched}; {LAYOUT_FIX} and download the missing images")


def is_decodable(data: bytes) -> bool:
    """Whether PIL recognises ``data`` as an intact image (a cheap ``verify``, no decoding)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    return True


def _image_ids(gallery: Sequence[str], triplets: Sequence[Triplet]) -> list[str]:
    """Gallery ids, then candidates/targets missing from the gallery, each once, in order."""
    referenced = (image_id for t in triplets for image_id in (t.candidate, t.target))
    return list(dict.fromkeys([*gallery, *referenced]))


def read_images(root: Path, category: str, image_ids: Sequence[str], counts: Counter
                ) -> dict[str, bytes]:
    """Bytes of each image id that decodes; corrupt files are logged, counted and left out."""
    images = {}
    for image_id in image_ids:
        path = find_image(root, category, image_id)
        data = path.read_bytes()
        if is_decodable(data):
            images[image_id] = data
        else:
            logger.warning("%s: not a readable image; skipping it and its edits", path)
            counts["corrupt images"] += 1
    return images


def category_frames(root: Path, category: str, split: str, counts: Counter
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``pairs`` and ``edits`` of one category; ``edit_id`` numbers its triplets from 0."""
    triplets = read_triplets(root, category, split, counts)
    images = read_images(root, category, _image_ids(read_gallery(root, category, split),
                                                     triplets), counts)
    usable = [t for t in triplets if t.candidate in images and t.target in images]
    counts["triplets with a corrupt image"] += len(triplets) - len(usable)
    pairs = pd.DataFrame({"pair_id": [f"{category}/{i}" for i in images], "split": split,
                          "image": list(images.values()), "caption": category_prompt(category),
                          "category": category}, columns=PAIR_COLUMNS)
    edits = pd.DataFrame(
        [(n, f"{category}/{t.candidate}", f"{category}/{t.target}", category, caption)
         for n, t in enumerate(usable) for caption in t.captions], columns=EDIT_COLUMNS)
    return pairs, edits.astype({"edit_id": np.int64})


def _log_dropped(counts: Counter, split: str):
    dropped = {reason: n for reason, n in counts.items() if n}
    if dropped:
        logger.info("FashionIQ %s: dropped %s", split,
                    ", ".join(f"{n} {reason}" for reason, n in sorted(dropped.items())))


def read_fashioniq(root: str | Path, split: str = "val",
                   categories: Sequence[str] = CATEGORIES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pairs, edits) of one FashionIQ ``split`` over ``categories`` (module docstring formats).

    ``edit_id`` runs over all categories (0 … n_triplets − 1, categories in the given order) and
    is shared by the rows of one triplet's captions. Pairs are the union of the categories'
    gallery files plus any candidate/target the galleries miss; every ``source_pair_id`` and
    ``target_pair_id`` is a ``pair_id`` of ``pairs``.
    """
    root = Path(root)
    if split not in SPLITS:
        raise FashionIQError(f"split {split!r}: FashionIQ has splits {', '.join(SPLITS)}; "
                             "pass one of them")
    if not categories:
        raise FashionIQError(f"{root}: no categories requested; pass some of "
                             f"{', '.join(CATEGORIES)}")
    if not root.is_dir():
        raise FashionIQError(f"{root}: FashionIQ root not found; {LAYOUT_FIX}")
    counts: Counter = Counter()
    frames = [category_frames(root, category, split, counts) for category in categories]
    pairs = pd.concat([p for p, _ in frames], ignore_index=True)
    edits, offset = [], 0
    for _, category_edits in frames:
        edits.append(category_edits.assign(edit_id=category_edits["edit_id"] + offset))
        offset += category_edits["edit_id"].nunique()
    _log_dropped(counts, split)
    return pairs, pd.concat(edits, ignore_index=True).astype({"edit_id": np.int64})


def mean_caption_embeddings(edit_ids: np.ndarray, caption_embeddings: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Average caption embeddings per edit: ``edit_ids`` (n_captions,) and ``caption_embeddings``
    (n_captions, d) → (sorted unique edit ids (n_edits,), mean embeddings (n_edits, d)).

    Paper B appendix J's pooling of a triplet's relative captions; the means are not
    re-normalised. Floating input keeps its dtype (sums are taken in float64).
    """
    edit_ids = np.asarray(edit_ids)
    caption_embeddings = np.asarray(caption_embeddings)
    if (edit_ids.ndim != 1 or caption_embeddings.ndim != 2
            or len(edit_ids) != len(caption_embeddings)):
        raise ValueError(f"edit_ids {edit_ids.shape} and caption_embeddings "
                         f"{caption_embeddings.shape}: expected (n,) and (n, d)")
    unique_ids, rows = np.unique(edit_ids, return_inverse=True)
    sums = np.zeros((len(unique_ids), caption_embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, rows.reshape(-1), caption_embeddings)
    means = sums / np.bincount(rows.reshape(-1), minlength=len(unique_ids))[:, None]
    dtype = caption_embeddings.dtype if caption_embeddings.dtype.kind == "f" else np.float64
    return unique_ids, means.astype(dtype, copy=False)
