"""Which modality each latent belongs to: energies, μ, MDS and the groupings."""
