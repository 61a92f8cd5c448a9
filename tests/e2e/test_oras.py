"""End-to-end with the oras Python SDK (PyPI `oras`): artifacts with an artifactType and a
subject found through the referrers API, a signature-like artifact attached to an image, and a
Helm chart stored as an OCI artifact and pulled back byte for byte."""
import base64
import hashlib
import io
import json
import tarfile

import pytest
import requests

from e2e_support import OCI_INDEX, OCI_MANIFEST, OciLayout, loud_skip, sha256_digest

try:
    from oras_support import ArtifactRegistry
except ImportError:  # pragma: no cover - reported loudly below
    ArtifactRegistry = None

EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
SBOM = "application/spdx+json"
SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json"


@pytest.fixture
def oras_client(registry):
    if ArtifactRegistry is None:
        loud_skip("the `oras` Python package is not installed, oras end-to-end tests did not run")
    return ArtifactRegistry(hostname=registry.host, insecure=True)


def _empty_config(tmp_path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"{}")
    return f"{path}:{EMPTY_CONFIG}"


def _file(tmp_path, name, data: bytes, media_type: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return f"{path}:{media_type}"


@pytest.mark.compat("oras (Python)", "push an artifact with artifactType, empty config and subject")
@pytest.mark.compat("oras (Python)", "list referrers, filtered by artifactType")
def test_artifact_with_subject_and_referrers(registry, oras_client, tmp_path):
    target = f"{registry.host}/oras/app"
    # The subject: an ordinary artifact pushed first, tagged.
    oras_client.push_artifact(f"{target}:v1", artifact_type="application/vnd.example.app",
                              files=[_file(tmp_path, "app.bin", b"app payload\n", "application/octet-stream")])
    subject = oras_client.head_manifest(f"{target}:v1")
    assert subject.mediaType == OCI_MANIFEST

    sbom = json.dumps({"spdxVersion": "SPDX-2.3", "name": "app"}).encode()
    resp = oras_client.push_artifact(
        f"{target}:sbom", artifact_type=SBOM, subject=subject, manifest_config=_empty_config(tmp_path),
        files=[_file(tmp_path, "sbom.spdx.json", sbom, SBOM)],
        manifest_annotations={"org.opencontainers.image.created": "2024-01-01T00:00:00Z"})
    assert resp.status_code == 201
    assert resp.headers["OCI-Subject"] == subject.digest
    sbom_digest = resp.headers["Docker-Content-Digest"]

    notes = oras_client.push_artifact(
        f"{target}:notes", artifact_type="text/markdown", subject=subject,
        manifest_config=_empty_config(tmp_path), files=[_file(tmp_path, "NOTES.md", b"# notes\n", "text/markdown")])
    notes_digest = notes.headers["Docker-Content-Digest"]

    headers, index = oras_client.referrers(target, subject.digest)
    assert headers["Content-Type"] == OCI_INDEX
    assert index["mediaType"] == OCI_INDEX
    by_digest = {m["digest"]: m for m in index["manifests"]}
    assert set(by_digest) == {sbom_digest, notes_digest}
    assert by_digest[sbom_digest]["artifactType"] == SBOM
    assert by_digest[sbom_digest]["annotations"] == {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}
    assert by_digest[notes_digest]["artifactType"] == "text/markdown"

    headers, index = oras_client.referrers(target, subject.digest, artifact_type=SBOM)
    assert headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in index["manifests"]] == [sbom_digest]

    # The artifact's manifest: the empty config, and its layer comes back as pushed.
    manifest = oras_client.get_manifest(f"{target}@{sbom_digest}")
    assert manifest["artifactType"] == SBOM
    assert manifest["config"]["mediaType"] == EMPTY_CONFIG and manifest["config"]["size"] == 2
    assert manifest["subject"]["digest"] == subject.digest
    out = tmp_path / "pulled"
    files = oras_client.pull(target=f"{target}:sbom", outdir=str(out))
    assert [open(f, "rb").read() for f in files] == [sbom]


@pytest.mark.compat("oras (Python)", "attach a signature-like artifact to an image; find it via referrers")
def test_signature_attached_to_an_image(registry, oras_client, skopeo, tmp_path):
    layout = OciLayout(tmp_path / "layout")
    img = layout.add_image()
    layout.tag("v1", img.descriptor)
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout.path}:v1", f"docker://{registry.host}/signed/app:v1")
    subject = oras_client.head_manifest(f"{registry.host}/signed/app:v1")
    assert subject.digest == img.manifest_digest

    payload = json.dumps({"critical": {"identity": {"docker-reference": f"{registry.host}/signed/app"},
                                       "image": {"docker-manifest-digest": img.manifest_digest},
                                       "type": "cosign container image signature"}, "optional": None}).encode()
    signature = base64.b64encode(hashlib.sha256(payload).digest()).decode()
    annotations_file = tmp_path / "annotations.json"
    # oras keys layer annotations by the file's path as given to push
    annotations_file.write_text(json.dumps({str(tmp_path / "payload.json"): {
        "dev.cosignproject.cosign/signature": signature}}))
    pushed = oras_client.push_artifact(
        f"{registry.host}/signed/app:sig",
        artifact_type=SIGNATURE, subject=subject, manifest_config=_empty_config(tmp_path),
        files=[_file(tmp_path, "payload.json", payload, "application/vnd.dev.cosign.simplesigning.v1+json")],
        annotation_file=str(annotations_file))
    sig_digest = pushed.headers["Docker-Content-Digest"]

    # A verifier that knows only the image finds the signature with plain HTTP.
    r = requests.get(f"{registry.url}/v2/signed/app/referrers/{img.manifest_digest}?artifactType={SIGNATURE}",
                     timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == OCI_INDEX
    assert [m["digest"] for m in r.json()["manifests"]] == [sig_digest]
    sig_manifest = requests.get(f"{registry.url}/v2/signed/app/manifests/{sig_digest}",
                                headers={"Accept": OCI_MANIFEST}, timeout=30).json()
    layer = sig_manifest["layers"][0]
    assert layer["annotations"]["dev.cosignproject.cosign/signature"] == signature
    blob = requests.get(f"{registry.url}/v2/signed/app/blobs/{layer['digest']}", timeout=30).content
    assert json.loads(blob)["critical"]["image"]["docker-manifest-digest"] == img.manifest_digest
    # The image itself is unchanged and still pulls.
    assert skopeo("inspect", "--tls-verify=false", "--raw",
                  f"docker://{registry.host}/signed/app:v1").stdout.encode() == img.manifest_bytes


def _helm_chart() -> bytes:
    files = {
        "berth-demo/Chart.yaml": b"apiVersion: v2\nname: berth-demo\nversion: 0.1.0\nappVersion: \"1.0\"\n",
        "berth-demo/values.yaml": b"replicaCount: 1\nimage:\n  repository: 127.0.0.1:5000/app\n",
        "berth-demo/templates/configmap.yaml":
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata: {}\n",
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


@pytest.mark.compat("Helm chart via oras (Python)", "push a chart (helm config + chart layer) and pull it back byte for byte")
def test_helm_chart_roundtrip(registry, oras_client, tmp_path):
    chart = _helm_chart()
    config = json.dumps({"name": "berth-demo", "version": "0.1.0", "apiVersion": "v2", "appVersion": "1.0"}).encode()
    (tmp_path / "chart").mkdir()
    config_path = tmp_path / "chart" / "config.json"
    config_path.write_bytes(config)
    target = f"{registry.host}/charts/berth-demo:0.1.0"
    resp = oras_client.push_artifact(
        target, artifact_type=None, manifest_config=f"{config_path}:{HELM_CONFIG}",
        files=[_file(tmp_path / "chart", "berth-demo-0.1.0.tgz", chart, HELM_CHART)])
    assert resp.status_code == 201

    manifest = oras_client.get_manifest(target)
    assert manifest["config"]["mediaType"] == HELM_CONFIG
    assert manifest["config"]["digest"] == sha256_digest(config)
    assert [(l["mediaType"], l["digest"], l["size"]) for l in manifest["layers"]] == \
        [(HELM_CHART, sha256_digest(chart), len(chart))]

    out = tmp_path / "pulled"
    files = oras_client.pull(target=target, outdir=str(out))
    assert len(files) == 1
    assert open(files[0], "rb").read() == chart
    oras_client.download_blob(oras_client.get_container(target), manifest["config"]["digest"],
                              str(tmp_path / "config.pulled"))
    assert (tmp_path / "config.pulled").read_bytes() == config
    assert oras_client.get_tags(target) == ["0.1.0"]
    with tarfile.open(fileobj=io.BytesIO(chart)) as tar:
        assert b"name: berth-demo" in tar.extractfile("berth-demo/Chart.yaml").read()
