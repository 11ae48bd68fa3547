"""``make_non_dumpable`` in a fresh interpreter (never in the test process itself)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.proc_probe import as_peer, hard_core_limit, user_core_limit

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="prctl and /proc are Linux's")

SCRIPT = """\
import ctypes, json, resource
from docker_pass.core.hardening import make_non_dumpable

first = make_non_dumpable()
after = resource.getrlimit(resource.RLIMIT_CORE)
dumpable = ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
second = make_non_dumpable()
print(json.dumps({
    "before": [first.core_soft, first.core_hard, first.dumpable],
    "after": list(after),
    "dumpable_after": dumpable,
    "second_call_same": second == first,
    "repr": repr(first),
}))
"""


def _run(core_soft: int) -> dict[str, object]:
    done = subprocess.run(
        as_peer([sys.executable, "-c", SCRIPT], core_soft=core_soft),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_soft_limit_goes_to_zero_hard_limit_stays_and_dumpable_is_cleared() -> None:
    soft, hard = user_core_limit(), hard_core_limit()
    result = _run(soft)
    assert result["before"] == [soft, hard, True]  # what it changed, to hand back to a child
    assert result["after"] == [0, hard]  # the hard limit kept: a child can get `soft` back
    assert result["dumpable_after"] == 0
    # A second call must not record the zero it set itself as "the user's limit".
    assert result["second_call_same"] is True
    assert result["repr"] == f"DumpState(core_soft={soft}, core_hard={hard}, dumpable=True)"


def test_core_dumps_already_off_is_no_error() -> None:
    hard = hard_core_limit()
    result = _run(0)
    assert result["before"] == [0, hard, True]
    assert result["after"] == [0, hard]
    assert result["dumpable_after"] == 0
