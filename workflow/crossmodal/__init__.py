"""crossmodal: dissect the shared embedding space of vision–language models.

The library behind the Snakemake workflow: toyworld (``crossmodal.world``), encoders, the
parquet store, metrics and the report. Every script of ``workflow/scripts`` only parses,
calls this package and writes.
"""

__version__ = "0.1.0"
