"""scripts/compat_table.py: the README table comes from the results file, nothing else; a test run
checks README against it and writes only the file it is told to; --write updates README."""
import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "compat_table.py"
spec = importlib.util.spec_from_file_location("compat_table", SCRIPT)
compat_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compat_table)

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import compat  # noqa: E402

RESULTS = {"generated": "2026-01-01", "clients": {
    "skopeo": {"version": "skopeo 1.9.3", "operations": {"sync": "passed", "inspect": "passed"}},
    "docker": {"version": "dockerd 20.10.24", "operations": {"push and pull": "passed", "manifest": "failed",
                                                             "pull by digest": "not run"}},
}}
README = "# x\nbefore\n<!-- compat:start -->\nold table\n<!-- compat:end -->\nafter\n"


@pytest.fixture
def files(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    results = tmp_path / "results.json"
    results.write_text(json.dumps(RESULTS))
    return readme, results


def run_script(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def test_renders_one_row_per_client_with_passed_and_other_operations():
    table = compat_table.render(RESULTS)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows == [
        "| docker | dockerd 20.10.24 | push and pull | manifest (failed)<br>pull by digest (not run) |",
        "| skopeo | skopeo 1.9.3 | inspect<br>sync | — |",
    ]


def test_the_table_depends_only_on_outcomes_and_versions():
    """Two runs on different days, with clients and operations found in another order, render the
    same bytes: nothing from the run's circumstances reaches the table."""
    other = copy.deepcopy(RESULTS)
    other["generated"] = "2027-12-31"
    other["clients"] = dict(reversed(list(other["clients"].items())))
    other["clients"]["docker"]["operations"] = dict(reversed(list(other["clients"]["docker"]["operations"].items())))
    other["clients"]["docker"]["version_said"] = "Docker version 99.0.0, build abcdef0 dockerd 20.10.24"
    assert compat_table.render(other) == compat_table.render(RESULTS)
    assert "2026" not in compat_table.render(RESULTS)


def test_table_versions_are_name_and_number_only():
    assert compat.table_version("podman", "podman version 4.3.1", None) == "podman 4.3.1"
    assert compat.table_version("skopeo", "skopeo version 1.9.3", None) == "skopeo 1.9.3"
    assert compat.table_version("oras (Python)", "oras 0.2.43", None) == "oras 0.2.43"
    # docker: the daemon's version, whichever CLI is on PATH
    for cli in ("Docker version 28.2.2, build e6534b4", "Docker version 20.10.24+dfsg1, build 297e128"):
        assert compat.table_version("docker", cli, "dockerd 20.10.24+dfsg1") == "dockerd 20.10.24+dfsg1"
    assert compat.table_version("docker", "Docker version 28.2.2, build e6534b4", None) == "unknown"
    assert compat.table_version("podman", "not installed", None) == "not installed"


def test_a_check_that_differs_fails_with_a_diff_and_writes_only_the_output_file(files, tmp_path):
    readme, results = files
    out = tmp_path / "build" / "debug" / "compat-table.md"
    proc = run_script("--out", out, results, readme)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert readme.read_text() == README
    assert out.read_text() == compat_table.render(RESULTS) + "\n"
    assert "-old table" in proc.stderr and "+| skopeo | skopeo 1.9.3 | inspect<br>sync | — |" in proc.stderr
    assert "scripts/compat_table.py --write" in proc.stderr


def test_write_replaces_only_the_marked_section_and_then_the_check_passes(files):
    readme, results = files
    assert compat_table.main(["compat_table.py", "--write", str(results), str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# x\nbefore\n<!-- compat:start -->\n")
    assert text.endswith("\n<!-- compat:end -->\nafter\n")
    assert "old table" not in text and "| skopeo |" in text
    assert compat_table.main(["compat_table.py", "--write", str(results), str(readme)]) == 0
    assert readme.read_text() == text

    proc = run_script(results, readme)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "agrees" in proc.stdout and readme.read_text() == text

    # one operation that no longer passes is a difference
    failing = copy.deepcopy(RESULTS)
    failing["clients"]["skopeo"]["operations"]["sync"] = "failed"
    results.write_text(json.dumps(failing))
    proc = run_script(results, readme)
    assert proc.returncode == 1 and "sync (failed)" in proc.stderr
    assert readme.read_text() == text


def test_missing_markers_or_results_fail(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    results = tmp_path / "results.json"
    results.write_text(json.dumps(RESULTS))
    with pytest.raises(SystemExit):
        compat_table.main(["compat_table.py", str(results), str(readme)])
    with pytest.raises(SystemExit):
        compat_table.main(["compat_table.py", "--write", str(results), str(readme)])
    assert compat_table.main(["compat_table.py", str(tmp_path / "none.json"), str(readme)]) == 1
    assert readme.read_text() == "no markers\n"


def test_the_repository_readme_has_the_section():
    _, section, _ = compat_table.split(ROOT / "README.md")
    assert "| client | version tested |" in section
