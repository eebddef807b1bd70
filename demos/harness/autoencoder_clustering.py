"""The report's side of the study in demos/autoencoder_clustering.py (to be moved here)."""

from demos.autoencoder_clustering import *  # noqa: F401,F403
