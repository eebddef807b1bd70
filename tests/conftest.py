import os

import pytest
from hypothesis import settings

# On CI every run draws the same examples, so a failure there can be replayed here.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True, scope="session")
def _no_user_data_folder():
    """The tests make their own tiny files: a user's SCRATCHNN_DATA (as the README suggests)
    must not change what they find."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SCRATCHNN_DATA", raising=False)
        yield
