"""Pull times: a manifest GET is noted in memory and written later in a batch, at the latest
when registryd shuts down; a HEAD is not a pull. Read back from the database registryd keeps
under its storage root (opened read-only while registryd is stopped) and from the web UI."""
import sqlite3
import time

import requests
from helpers import assert_status, get_manifest, make_image, uniq


def pull_times(reg, name: str) -> dict:
    db = sqlite3.connect(f"file:{reg.root / 'registry.db'}?mode=ro", uri=True)
    try:
        tags = dict(db.execute(
            "SELECT t.name, t.pulled_at FROM tag t JOIN repository r ON r.id = t.repository_id WHERE r.name = ?",
            (name,)).fetchall())
        manifests = dict(db.execute(
            "SELECT m.digest, m.pulled_at FROM manifest m JOIN repository r ON r.id = m.repository_id WHERE r.name = ?",
            (name,)).fetchall())
        repository = db.execute("SELECT pulled_at FROM repository WHERE name = ?", (name,)).fetchone()[0]
    finally:
        db.close()
    return {"tags": tags, "manifests": manifests, "repository": repository}


def test_pulls_are_written_at_shutdown_and_heads_are_not_pulls(registry):
    name = uniq("pulls")
    pulled = make_image(registry, name, tag="pulled")
    make_image(registry, name, tag="headed")
    by_digest = make_image(registry, name, tag=None)
    before = time.time()
    assert_status(get_manifest(registry, name, "pulled", accept=pulled.media_type), 200)
    assert_status(get_manifest(registry, name, "headed", method="HEAD"), 200)
    assert_status(get_manifest(registry, name, by_digest.digest), 200)
    # Stopped at once: well within the 5 s between batches, so the shutdown flush writes them.
    registry.stop()
    after = time.time()

    times = pull_times(registry, name)
    assert before - 1 <= times["tags"]["pulled"] <= after + 1, times
    assert times["tags"]["headed"] is None, times
    assert before - 1 <= times["manifests"][by_digest.digest] <= after + 1, times
    assert times["manifests"][pulled.digest] is None, times  # pulled by tag, not by digest
    assert before - 1 <= times["repository"] <= after + 1, times
    assert "recording pull times failed" not in registry.log()


def test_the_periodic_batch_writes_pulls_while_serving(registry):
    name = uniq("pulls")
    image = make_image(registry, name, tag="v1")
    assert_status(get_manifest(registry, name, "v1", accept=image.media_type), 200)
    deadline = time.time() + 15
    while time.time() < deadline:
        page = registry_page(registry, name)
        if "just now</time></td>" in page.split('class="pulled"', 1)[-1][:200]:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"the pull never showed on the repository page:\n{page}")
    registry.stop()
    assert pull_times(registry, name)["tags"]["v1"] is not None


def registry_page(reg, name: str) -> str:
    resp = requests.get(f"{reg.url}/ui/repository", params={"name": name}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.text
