"""registryctl fsck: finds corrupt and missing blobs, and --repair makes clients push them again."""
from __future__ import annotations

from helpers import assert_status, blob_file, get_blob, get_manifest, make_image, sha256
from registryctl import fsck


def test_clean_registry(registry):
    make_image(registry, "ok", tag="v1")
    code, report = fsck(registry.config_path)
    assert code == 0
    assert report["blobsChecked"] == 3


def test_corrupt_blob_is_found_and_quarantined(registry):
    image = make_image(registry, "corrupt", tag="v1")
    layer = sha256(image.layers[0])
    path = blob_file(registry, layer)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))

    code, report = fsck(registry.config_path)
    assert code == 1
    assert report["corruptBlobs"] == [layer]
    assert report["brokenManifests"] == [f"corrupt@{image.digest}"]
    assert path.exists()  # no --repair: nothing moves

    code, report = fsck(registry.config_path, "--repair")
    assert code == 1 and report["repaired"]
    assert not path.exists()
    quarantined = list((registry.root / "quarantine").iterdir())
    assert len(quarantined) == 1 and layer.split(":")[1] in quarantined[0].name
    # Clients no longer see the blob, so a push uploads it again.
    assert get_blob(registry, "corrupt", layer).status_code == 404
    from helpers import push_blob
    assert push_blob(registry, "corrupt", image.layers[0]) == layer
    assert_status(get_blob(registry, "corrupt", layer), 200)
    assert_status(get_manifest(registry, "corrupt", "v1"), 200)
    assert fsck(registry.config_path)[0] == 0


def test_missing_and_unrecorded_files(registry):
    image = make_image(registry, "missing", tag="v1")
    config = sha256(image.config)
    blob_file(registry, config).unlink()
    stray = "a" * 64
    stray_path = registry.root / "blobs" / "sha256" / "aa" / stray
    stray_path.parent.mkdir(parents=True, exist_ok=True)
    stray_path.write_bytes(b"stray")
    code, report = fsck(registry.config_path)
    assert code == 1
    assert report["missingFiles"] == [config]
    assert report["unrecordedFiles"] == [f"sha256:{stray}"]
    assert report["brokenManifests"] == [f"missing@{image.digest}"]
