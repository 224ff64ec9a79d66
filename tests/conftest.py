"""Suite-wide test settings.

Property tests run derandomized by default, so a CI run on the same commit explores the same
examples and cannot fail by chance; ``HYPOTHESIS_PROFILE=explore`` draws fresh random examples
(use it when hunting for new counterexamples, and keep what it finds as an explicit example).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
