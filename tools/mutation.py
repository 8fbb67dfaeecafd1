"""`make mutation`: mutation testing of the safety mechanisms (not part of `make test`).

mutmut (configured under [tool.mutmut] in pyproject.toml) copies the project into mutants/, makes
one small change at a time to the visibility policies, the mail outbox, the job claims and the
scheduler (a `<` that becomes `<=`, a condition dropped, a value changed) and runs the tests that
cover the changed function. A mutant the tests do not notice ("survived") is a mechanism the suite
does not really prove. This prints, per file, how many mutants the tests killed, and the score.

Like `make test`, it uses DATABASE_URL / REDIS_URL when set, and the embedded servers otherwise.
`MUTATION_CHILDREN` (default 1) runs that many mutants at once. `mutmut show <name>` shows one
survivor's change; `mutmut browse` walks them.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import stack  # noqa: E402  (the launcher's embedded PostgreSQL and Redis)

KILLED = {1, 3, 37}  # tests failed (3: pytest's internal error counts as a kill; 37: type check)
SURVIVED = {0}
TIMEOUT = {24, -24, 36, 152, 255}


def tally(meta: Path) -> Counter:
    counts: Counter = Counter()
    for code in json.loads(meta.read_text())["exit_code_by_key"].values():
        if code is None:
            continue  # not run (yet): an interrupted run reports what it checked
        if code in KILLED:
            counts["killed"] += 1
        elif code in SURVIVED:
            counts["survived"] += 1
        elif code in TIMEOUT:
            counts["timeout"] += 1  # an endless loop the tests stopped: counted as caught
        elif code in (5, 33):
            counts["no tests"] += 1
        else:
            counts["other"] += 1
    return counts


def report() -> int:
    metas = sorted((ROOT / "mutants").rglob("*.py.meta"))
    if not metas:
        print("No mutation results under mutants/.")
        return 1
    total: Counter = Counter()
    print(f"{'file':32} {'mutants':>8} {'killed':>7} {'timeout':>8} {'survived':>9} {'no tests':>9} {'score':>7}")
    for meta in metas:
        counts = tally(meta)
        total += counts
        print(line(str(meta.relative_to(ROOT / "mutants")).removesuffix(".meta"), counts))
    print(line("all", total))
    return 0


def line(name: str, counts: Counter) -> str:
    mutants = sum(counts.values())
    caught = counts["killed"] + counts["timeout"]
    score = f"{100 * caught / mutants:.1f}%" if mutants else "-"
    return (f"{name:32} {mutants:>8} {counts['killed']:>7} {counts['timeout']:>8} {counts['survived']:>9} "
            f"{counts['no tests']:>9} {score:>7}")


def main() -> int:
    env = stack.prepare_environment()
    children = os.environ.get("MUTATION_CHILDREN", "1")
    mutmut = Path(sys.executable).with_name("mutmut")
    try:
        subprocess.run([str(mutmut), "run", "--max-children", children], cwd=ROOT, env=env, check=False)  # noqa: S603
    finally:
        stack.stop_children()
    return report()


if __name__ == "__main__":
    sys.exit(report() if sys.argv[1:] == ["--report"] else main())
