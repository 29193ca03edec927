"""Paper A's three case studies (§4, appendix A.4): the attribute pattern across
modalities (``attribute``), the modality-specific adversarial defence (``adversarial``) and
text-to-image control through an embedding-conditioned decoder (``decoder``,
``text_to_image``)."""
