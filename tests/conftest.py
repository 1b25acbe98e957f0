"""Suite-wide settings: hypothesis is derandomized on every run, so `make test` repeats itself exactly.

`BOT_HYPOTHESIS=explore` opts into random exploration (new examples each run) when hunting for bugs.
"""

import os

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile("explore" if os.environ.get("BOT_HYPOTHESIS") == "explore" else "deterministic")
