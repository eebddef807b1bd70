"""The report's side of the study in demos/distillation.py (to be moved here)."""

from demos.distillation import *  # noqa: F401,F403
