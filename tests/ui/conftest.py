"""The UI tests' fixture sessions live under one fixed folder (`support.SNAP_ROOT`): the snapshots show
their paths, so the folder cannot differ per run. Two test runs on one machine (two clones, two
`scripts/test` at once) would write the same sessions at once; one lock, held for a module at a time
by whichever run's worker is in a UI module, keeps them apart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from filelock import FileLock

from tests.ui.support import SNAP_ROOT


@pytest.fixture(scope="module", autouse=True)
def _one_run_at_a_time_in_the_fixture_folder() -> Iterator[None]:
    SNAP_ROOT.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{SNAP_ROOT}.lock"):
        yield
