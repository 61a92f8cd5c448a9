"""End-to-end: event notifications for what real clients do. docker pushes and pulls an image
and skopeo deletes it; a webhook receiver on loopback gets Distribution's events for each blob
and the manifest, with the client's own User-Agent in the request."""
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from e2e_support import ALL_MANIFEST_TYPES  # noqa: E402
from webhook import Receiver  # noqa: E402


def _unique(events: list[dict]) -> list[dict]:
    seen = {}
    for event in events:
        seen.setdefault(event["id"], event)
    return list(seen.values())


def _with(events: list[dict], action: str) -> list[dict]:
    return [event for event in _unique(events) if event["action"] == action]


def test_docker_push_and_pull_and_skopeo_delete_reach_the_endpoint(docker, skopeo, make_registry, tmp_path):
    receiver = Receiver().start()
    try:
        reg = make_registry(extra_config=f"""notifications:
  endpoints:
    - name: hook
      url: {receiver.url}
      timeout: 2s
      backoff: 200ms
""").start()
        image_id = docker.build_image("notify-e2e:v1", tmp_path)
        ref = f"{reg.host}/team/notified:v1"
        docker.docker("tag", "notify-e2e:v1", ref)
        docker.docker("push", ref)

        resp = requests.get(f"{reg.url}/v2/team/notified/manifests/v1", headers={"Accept": ALL_MANIFEST_TYPES},
                            timeout=30)
        assert resp.status_code == 200, resp.text
        digest = resp.headers["Docker-Content-Digest"]
        manifest = resp.json()
        blobs = {manifest["config"]["digest"], *(layer["digest"] for layer in manifest["layers"])}
        assert len(blobs) == 4

        # Every blob docker uploaded, then the manifest under its tag, pushed by docker.
        events = receiver.wait_for(lambda e: any(x["target"].get("tag") == "v1" for x in _with(e, "push")))
        pushes = _with(events, "push")
        assert {e["target"]["digest"] for e in pushes if "tag" not in e["target"]} == blobs
        manifest_push = [e for e in pushes if e["target"].get("tag") == "v1"]
        assert len(manifest_push) == 1 and manifest_push[0]["target"]["digest"] == digest
        assert manifest_push[0]["target"]["repository"] == "team/notified"
        assert manifest_push[0]["request"]["useragent"].startswith("docker/")
        assert pushes.index(manifest_push[0]) == len(pushes) - 1  # after every blob it names

        # docker pull after removing the image: the manifest and every blob it fetches.
        docker.docker("rmi", "notify-e2e:v1", ref)
        docker.docker("pull", ref)
        assert docker.image_id(ref) == image_id
        # (The test's own GET of the manifest above made a pull event too, from python-requests.)
        def docker_pulls(events):
            return [x for x in _with(events, "pull") if x["request"]["useragent"].startswith("docker/")]

        events = receiver.wait_for(lambda e: blobs | {digest} <= {x["target"]["digest"] for x in docker_pulls(e)})
        for pull in docker_pulls(events):
            assert pull["target"]["repository"] == "team/notified"

        # skopeo delete: the manifest by digest.
        skopeo("delete", "--tls-verify=false", f"docker://{ref}")
        events = receiver.wait_for(lambda e: len(_with(e, "delete")) >= 1)
        (delete,) = _with(events, "delete")
        assert delete["target"]["repository"] == "team/notified"
        assert delete["target"]["digest"] == digest
        assert "skopeo" in delete["request"]["useragent"].lower()
    finally:
        receiver.stop()
