"""scripts/compat_table.py: the README table comes from the results file, nothing else."""
import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compat_table.py"
spec = importlib.util.spec_from_file_location("compat_table", SCRIPT)
compat_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compat_table)

RESULTS = {"generated": "2026-01-01", "clients": {
    "skopeo": {"version": "skopeo version 1.9.3", "operations": {"sync": "passed", "inspect": "passed"}},
    "docker": {"version": "client 28.2.2", "operations": {"push and pull": "passed", "manifest": "failed",
                                                          "pull by digest": "not run"}},
}}


def test_renders_one_row_per_client_with_passed_and_other_operations():
    table = compat_table.render(RESULTS)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows == [
        "| docker | client 28.2.2 | push and pull | manifest (failed)<br>pull by digest (not run) |",
        "| skopeo | skopeo version 1.9.3 | inspect<br>sync | — |",
    ]


def test_rewrites_only_the_marked_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\nbefore\n<!-- compat:start -->\nold table\n<!-- compat:end -->\nafter\n")
    results = tmp_path / "results.json"
    results.write_text(json.dumps(RESULTS))
    assert compat_table.main(["compat_table.py", str(results), str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# x\nbefore\n<!-- compat:start -->\n")
    assert text.endswith("\n<!-- compat:end -->\nafter\n")
    assert "old table" not in text and "| skopeo |" in text
    assert compat_table.main(["compat_table.py", str(results), str(readme)]) == 0
    assert readme.read_text() == text


def test_missing_markers_or_results_fail(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    results = tmp_path / "results.json"
    results.write_text(json.dumps(RESULTS))
    with pytest.raises(SystemExit):
        compat_table.main(["compat_table.py", str(results), str(readme)])
    assert compat_table.main(["compat_table.py", str(tmp_path / "none.json"), str(readme)]) == 1
