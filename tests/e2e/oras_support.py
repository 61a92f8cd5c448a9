"""The oras Python SDK (PyPI `oras`) with the two things its 0.2 line lacks: an `artifactType`
on pushed manifests, and a call for the referrers API. Both go through the SDK's own request
machinery (`do_request`, its session, its container parsing)."""
from __future__ import annotations

import oras.oci
import oras.provider

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


class ArtifactRegistry(oras.provider.Registry):
    """oras.provider.Registry that can set `artifactType` and list referrers."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.artifact_type: str | None = None

    def upload_manifest(self, manifest, container):
        if self.artifact_type:
            manifest = dict(manifest)
            manifest["artifactType"] = self.artifact_type
        return super().upload_manifest(manifest, container)

    def push_artifact(self, target: str, *, artifact_type: str | None, **kwargs):
        self.artifact_type = artifact_type
        try:
            return self.push(target=target, disable_path_validation=True, quiet=True, **kwargs)
        finally:
            self.artifact_type = None

    def head_manifest(self, target: str) -> oras.oci.Subject:
        """The descriptor of a stored manifest, as a subject for another push."""
        container = self.get_container(target)
        resp = self.do_request(f"{self.prefix}://{container.manifest_url()}", "HEAD", headers={
            "Accept": ", ".join(oras.defaults.default_manifest_accepted_media_types)})
        self._check_200_response(resp)
        return oras.oci.Subject(resp.headers["Content-Type"], resp.headers["Docker-Content-Digest"],
                                int(resp.headers["Content-Length"]))

    def referrers(self, target: str, digest: str, artifact_type: str | None = None):
        """GET /v2/<name>/referrers/<digest>: (response headers, index document)."""
        container = self.get_container(target)
        url = f"{self.prefix}://{container.registry}/v2/{container.api_prefix}/referrers/{digest}"
        if artifact_type:
            url += f"?artifactType={artifact_type}"
        resp = self.do_request(url, "GET", headers={"Accept": OCI_INDEX})
        self._check_200_response(resp)
        return resp.headers, resp.json()
