"""What the whole suite shares: the hypothesis profile of the fuzz tests.

A fixed seed (derandomize) and FTC_FUZZ_EXAMPLES examples per property test:
200 in `make test`, 10,000 in `make fuzz`.  No example database is written.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ftc", max_examples=int(os.environ.get("FTC_FUZZ_EXAMPLES", "200")), derandomize=True,
    database=None, deadline=None, print_blob=True, suppress_health_check=list(HealthCheck))
settings.load_profile("ftc")
