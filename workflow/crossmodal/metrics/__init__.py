"""Numbers computed from embeddings: retrieval, zero-shot accuracy, the modality gap."""
