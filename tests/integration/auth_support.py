"""Every API route and method for the table-driven authentication tests, and a push with credentials."""
from __future__ import annotations

import json
import uuid

from helpers import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, fake_digest, http, rand_bytes, sha256

REPO = "team/app"
DIGEST = fake_digest()
UPLOAD = str(uuid.uuid4())

# (method, path, the scope a token must grant; None for the base endpoint)
ROUTES = [
    ("GET", "/v2/", None),
    ("HEAD", "/v2/", None),
    ("GET", "/v2/_catalog", "registry:catalog:*"),
    ("GET", f"/v2/{REPO}/tags/list", f"repository:{REPO}:pull"),
    ("GET", f"/v2/{REPO}/manifests/latest", f"repository:{REPO}:pull"),
    ("HEAD", f"/v2/{REPO}/manifests/latest", f"repository:{REPO}:pull"),
    ("PUT", f"/v2/{REPO}/manifests/latest", f"repository:{REPO}:pull,push"),
    ("DELETE", f"/v2/{REPO}/manifests/{DIGEST}", f"repository:{REPO}:delete"),
    ("GET", f"/v2/{REPO}/blobs/{DIGEST}", f"repository:{REPO}:pull"),
    ("HEAD", f"/v2/{REPO}/blobs/{DIGEST}", f"repository:{REPO}:pull"),
    ("DELETE", f"/v2/{REPO}/blobs/{DIGEST}", f"repository:{REPO}:delete"),
    ("POST", f"/v2/{REPO}/blobs/uploads/", f"repository:{REPO}:pull,push"),
    ("GET", f"/v2/{REPO}/blobs/uploads/{UPLOAD}", f"repository:{REPO}:pull,push"),
    ("PATCH", f"/v2/{REPO}/blobs/uploads/{UPLOAD}", f"repository:{REPO}:pull,push"),
    ("PUT", f"/v2/{REPO}/blobs/uploads/{UPLOAD}?digest={DIGEST}", f"repository:{REPO}:pull,push"),
    ("DELETE", f"/v2/{REPO}/blobs/uploads/{UPLOAD}", f"repository:{REPO}:pull,push"),
    ("GET", f"/v2/{REPO}/referrers/{DIGEST}", f"repository:{REPO}:pull"),
    ("GET", "/v2/no/such/endpoint", None),
]

ROUTE_IDS = [f"{m} {p.split('?')[0]}" for m, p, _ in ROUTES]


def push_image(reg, name: str, tag: str, headers: dict) -> str:
    """Pushes a one-layer OCI image with the given credentials; returns the manifest digest."""
    blobs = []
    for data in (json.dumps({"architecture": "amd64", "os": "linux"}).encode(), rand_bytes(1000)):
        digest = sha256(data)
        resp = http("POST", reg, f"/v2/{name}/blobs/uploads/?digest={digest}", data=data,
                    headers={**headers, "Content-Type": "application/octet-stream"})
        assert resp.status_code == 201, resp.text
        blobs.append((digest, len(data)))
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": blobs[0][0], "size": blobs[0][1]},
        "layers": [{"mediaType": OCI_LAYER, "digest": blobs[1][0], "size": blobs[1][1]}],
    }).encode()
    resp = http("PUT", reg, f"/v2/{name}/manifests/{tag}", data=manifest,
                headers={**headers, "Content-Type": OCI_MANIFEST})
    assert resp.status_code == 201, resp.text
    return sha256(manifest)
