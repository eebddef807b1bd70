"""The report's side of the study in demos/madaline.py (to be moved here)."""

from demos.madaline import *  # noqa: F401,F403
