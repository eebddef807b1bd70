"""The report's side of the study in demos/mcculloch_pitts.py (to be moved here)."""

from demos.mcculloch_pitts import *  # noqa: F401,F403
