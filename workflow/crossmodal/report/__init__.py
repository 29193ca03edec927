"""The report: figures (cosine-similarity histograms) and the HTML page built from the results."""

from crossmodal.report.figures import cosine_similarity_samples, plot_similarity_histograms
from crossmodal.report.html import SECTIONS, Section, build_report

__all__ = ["SECTIONS", "Section", "build_report", "cosine_similarity_samples",
           "plot_similarity_histograms"]
