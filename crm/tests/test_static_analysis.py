"""Static analysis and dependency audit (issue 14): bandit runs in `make lint` (.pre-commit-config.yaml),
pip-audit in `make audit` (tools/pip_audit.py). These tests keep the audit's verdicts honest offline."""

import json

from tools.mutation import line, tally
from tools.pip_audit import verdict


def test_a_known_vulnerability_fails_the_audit():
    state, lines = verdict({"dependencies": [
        {"name": "django", "version": "6.1.3", "vulns": [{"id": "PYSEC-2026-1", "fix_versions": ["6.1.4"]}]},
        {"name": "celery", "version": "5.7.0", "vulns": []},
    ]})
    assert state == "vulnerable"
    assert lines == ["django 6.1.3: PYSEC-2026-1 (fixed in 6.1.4)"]


def test_an_unreachable_index_is_reported_as_skipped_not_as_clean():
    """pip-audit answers "No known vulnerabilities found" when it could audit nothing: that is no pass."""
    state, lines = verdict({"dependencies": [
        {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (6.1.3)"},
    ]})
    assert state == "skipped"
    assert "cannot be reached" in lines[0]


def test_a_clean_audit_says_how_many_packages_it_checked():
    state, lines = verdict({"dependencies": [{"name": "django", "version": "6.1.3", "vulns": []},
                                             {"name": "local-thing", "skip_reason": "not on the index"}]})
    assert state == "clean"
    assert lines == ["1 packages audited, no known vulnerabilities"]


def test_the_mutation_score_counts_only_caught_mutants(tmp_path):
    """`make mutation` (tools/mutation.py) reads mutmut's results: a survivor or an untested mutant
    lowers the score, a timeout (an endless loop the tests stopped) counts as caught."""
    meta = tmp_path / "outbox.py.meta"
    meta.write_text(json.dumps({"exit_code_by_key": {"a": 1, "b": 1, "c": 0, "d": 33, "e": -24, "f": None}}))
    counts = tally(meta)
    assert (counts["killed"], counts["survived"], counts["no tests"], counts["timeout"]) == (2, 1, 1, 1)
    assert line("crm/outbox.py", counts).split()[-1] == "60.0%"  # 3 of 5; "f" was not run
