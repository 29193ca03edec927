"""Figures of paper A's case studies: figure 7 (samples of one class ordered by the share of
ImgD latents among their top activations)."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from crossmodal.report.plotting import plt, save_figure


def plot_share_examples(images: Sequence[Image.Image], shares: Sequence[float], path,
                        title: str) -> None:
    """Figure 7: one image per column, ordered by share, the share in each panel title."""
    figure, axes = plt.subplots(1, len(images), figsize=(1.8 * len(images), 2.2), squeeze=False)
    for axis, image, share in zip(axes[0], images, shares, strict=True):
        axis.imshow(image)
        axis.set_title(f"{share:.2f}", fontsize="small")
        axis.axis("off")
    figure.suptitle(title, fontsize="small")
    save_figure(figure, path)
