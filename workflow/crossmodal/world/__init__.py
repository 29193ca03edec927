"""toyworld: a procedural image–caption world with known ground truth."""

from crossmodal.world.caption import relative_caption, write_caption
from crossmodal.world.concepts import FAMILIES, FAMILY_BY_NAME, Family, families
from crossmodal.world.dataset import ToyworldSpec, build_pairs, scene_table
from crossmodal.world.render import render_image, render_scene
from crossmodal.world.scenes import indicators, sample_scenes

__all__ = ["FAMILIES", "FAMILY_BY_NAME", "Family", "ToyworldSpec", "build_pairs", "families",
           "indicators", "relative_caption", "render_image", "render_scene", "sample_scenes",
           "scene_table", "write_caption"]
