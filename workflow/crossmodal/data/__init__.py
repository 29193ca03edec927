"""Readers of public datasets into the workflow's ``pairs`` / ``edits`` frames.

* source.py — the ``PairSource`` interface, image references (bytes, file, tar member),
  image validation, writing ``pairs.parquet`` and reading it back in batches (``PairsFile``).
* webdataset_tars.py — img2dataset-style webdataset shards (cc3m-wds, LAION subsets).
* coco.py — COCO captions 2017, one pair per caption, with category labels.
* imagefolder.py — ImageNet-style class folders, captioned by a class prompt.
* templates.py — the 80 CLIP prompt templates and zero-shot prompt ensembles.
* table.py — a CSV/parquet table of image paths and captions.
* fashioniq.py — FashionIQ relative-caption triplets for vector arithmetic (paper B appendix J).
"""

from crossmodal.data.coco import CocoSource
from crossmodal.data.fashioniq import FashionIQError, mean_caption_embeddings, read_fashioniq
from crossmodal.data.imagefolder import ImageFolderSource, class_names_of
from crossmodal.data.source import (
    DatasetError,
    PairBatch,
    PairRecord,
    PairsFile,
    PairSource,
    open_image,
    open_images,
    write_pairs,
)
from crossmodal.data.table import TableSource
from crossmodal.data.templates import CLIP_TEMPLATES, class_prompt, zero_shot_prompts
from crossmodal.data.webdataset_tars import WebDatasetSource

__all__ = [
    "CLIP_TEMPLATES",
    "CocoSource",
    "DatasetError",
    "FashionIQError",
    "ImageFolderSource",
    "PairBatch",
    "PairRecord",
    "PairSource",
    "PairsFile",
    "TableSource",
    "WebDatasetSource",
    "class_names_of",
    "class_prompt",
    "mean_caption_embeddings",
    "open_image",
    "open_images",
    "read_fashioniq",
    "write_pairs",
    "zero_shot_prompts",
]
