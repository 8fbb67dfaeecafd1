"""`make audit`: pip-audit over the pinned requirements and the installed environment.

Known vulnerabilities fail it (exit 1). When the package index's vulnerability data cannot be reached
(no network, or an index mirror without it), pip-audit skips every package: that is reported as
"skipped" with the reason, and the command exits 0, so an offline machine is not blocked; CI prints it.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
RUNS = {
    "pinned requirements": ["-r", str(ROOT / "requirements.txt"), "--no-deps", "--disable-pip"],
    "installed environment": ["--local"],
}


def verdict(report: dict) -> tuple[str, list[str]]:
    """("vulnerable" | "clean" | "skipped", lines to print) for one pip-audit JSON report."""
    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    audited = [dep for dep in dependencies if "skip_reason" not in dep]
    if vulnerable:
        return "vulnerable", [
            f"{dep['name']} {dep.get('version', '')}: {vuln['id']} "
            f"(fixed in {', '.join(vuln.get('fix_versions') or []) or 'no release yet'})"
            for dep in vulnerable for vuln in dep["vulns"]]
    if dependencies and not audited:
        return "skipped", ["the vulnerability data of the package index cannot be reached from here; "
                           f"pip-audit says: {dependencies[0]['skip_reason']}"]
    return "clean", [f"{len(audited)} packages audited, no known vulnerabilities"]


def main() -> int:
    failed = False
    for label, arguments in RUNS.items():
        try:
            # Our own .venv's pip-audit with fixed arguments: no outside input reaches the command.
            completed = subprocess.run([str(PIP_AUDIT), *arguments, "-f", "json", "--progress-spinner", "off"],  # noqa: S603
                                       capture_output=True, text=True, timeout=600, check=False)
            report = json.loads(completed.stdout or "{}")
        except (subprocess.TimeoutExpired, ValueError) as error:
            print(f"pip-audit ({label}): skipped, the package index could not be reached ({error})")
            continue
        if not report and completed.returncode:
            print(f"pip-audit ({label}): skipped, the package index could not be reached:\n{completed.stderr[-500:]}")
            continue
        state, lines = verdict(report)
        print(f"pip-audit ({label}): {state}")
        for line in lines:
            print(f"  {line}")
        failed |= state == "vulnerable"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
