"""The report's side of the study in demos/adaline.py (to be moved here)."""

from demos.adaline import *  # noqa: F401,F403
