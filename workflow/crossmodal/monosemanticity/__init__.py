"""Paper A's monosemanticity scores (EmbSim, WinRate, eq. 5) and their embedding models h (A.3).

``scores`` picks each latent's top-activating and random samples and scores how much more alike
the top samples are than random ones under an embedding model; ``embedders`` loads those models
(all-MiniLM-L6-v2 for texts, a ViT for images) offline.
"""
