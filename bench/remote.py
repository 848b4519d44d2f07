#!/usr/bin/env python3
"""`conform --remote` figures: our two servers, then each planted-bug server of
tests/test_lockstep_remote.py (Markdown, as in docs/remote.md).

    python3 bench/remote.py [EXAMPLES]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from impl.lockstep.remote_config import running_remote
from impl.lockstep.remote_run import run_remote
from tests.test_lockstep_remote import PLANTED, ROOT


def main() -> int:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 120
    with tempfile.TemporaryDirectory() as tmp:
        with running_remote(Path(tmp) / "own") as config:
            d = run_remote(config, examples, 0).as_json()
        print(f"own servers, {d['examples']} examples (seed 0): {d['steps']} steps in "
              f"{d['seconds']} s ({d['steps_per_second']} steps/s, {d['http_requests']} HTTP "
              f"requests), actions {d['actions_covered']}/{d['actions_total']}, pairs "
              f"{d['pairs_covered']}/{d['pairs_total']} (missed: {d['pairs_missed']}), "
              f"divergences {d['divergences']}\n")
        print("| planted bug | DS role | check id | steps (session) | step in its example |")
        print("|---|---|---|---|---|")
        for bug, (role, _) in PLANTED.items():
            env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "planted_site"),
                                                  str(ROOT)]), "MIMI_LOCKSTEP_BUG": bug}
            with running_remote(Path(tmp) / bug, env=env) as config:
                r = run_remote(config, 100, 0).as_json()
            dv = r["divergence"]
            if dv is None:
                print(f"| `{bug}` | {role} | NOT FOUND | {r['steps']} | - |")
                continue
            print(f"| `{bug}` | {role} | `{dv['check'][0]}` | {r['steps'] + 1} | "
                  f"{dv['steps']} (example {dv['example']}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
