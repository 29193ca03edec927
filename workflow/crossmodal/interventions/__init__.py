"""Interventions on embeddings through a dictionary (paper B §5): closing the modality gap
(``gap_removal``, measured by ``evaluation``) and semantic vector arithmetic restricted to bimodal
atoms (``arithmetic``); ``illustration`` draws the methods on synthetic 3-D points."""
