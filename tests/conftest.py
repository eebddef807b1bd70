import os

from hypothesis import settings

# On CI every run draws the same examples, so a failure there can be replayed here.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
