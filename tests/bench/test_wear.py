"""`python -m benchmarks.wear`, small: the real daemon's write_bytes per scenario. The default
spares the card what the write-everything baseline of the same run writes, and an outage is
written."""

from __future__ import annotations

import pytest

from benchmarks.wear import measure, table

pytestmark = [pytest.mark.slow, pytest.mark.daemon, pytest.mark.timeout(300)]


def test_the_default_writes_less_than_writing_every_result_and_an_outage_is_written() -> None:
    rows = measure(results=4, continuous_s=2, idle_s=1)
    by_name = {m.name: m for m in rows}
    default = by_name["triggered, write_after_s = 2"]
    baseline = by_name["triggered, write_after_s = 0"]
    assert baseline.written > 0  # the measurement sees the spool's writes at all
    assert default.written / default.results < baseline.written / baseline.results
    held = by_name["broker away (per held result)"]
    assert held.results >= 4 and held.written > 0 and held.payload > 0
    assert "| continuous, defaults |" in table(rows)
