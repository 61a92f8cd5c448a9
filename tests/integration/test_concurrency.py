"""Many clients at once: 32 pushes sharing layers, a tag rewritten while it is read, deletes
racing pulls. Nothing deadlocks, nothing that should succeed fails, and the final state is
consistent (checked through the API, by registryctl fsck, and offline)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from consistency import check_storage
from helpers import (OCI_MANIFEST, Image, assert_status, config_blob, describe, image_manifest, location_path,
                     make_image, rand_bytes, sha256, tags_of, with_digest)
from registryctl import fsck

OCTET = {"Content-Type": "application/octet-stream"}
CLIENTS = 32


def push_image(session: requests.Session, url: str, repo: str, shared_layers: list[bytes], tag: str) -> Image:
    """Push like docker does: HEAD each blob, upload the missing ones (chunked for the big
    ones), then the manifest."""
    config = config_blob(tag)
    layers = [*shared_layers, rand_bytes(20_000)]
    for blob in (config, *layers):
        digest = sha256(blob)
        if session.head(f"{url}/v2/{repo}/blobs/{digest}", timeout=60).status_code == 200:
            continue
        resp = session.post(f"{url}/v2/{repo}/blobs/uploads/", timeout=60)
        assert resp.status_code == 202, describe(resp)
        location = location_path(resp)
        half = len(blob) // 2
        if half:
            resp = session.patch(url + location, data=blob[:half], timeout=60,
                                 headers={**OCTET, "Content-Range": f"0-{half - 1}"})
            assert resp.status_code == 202, describe(resp)
            location = location_path(resp)
        resp = session.put(url + with_digest(location, digest), data=blob[half:], headers=OCTET, timeout=60)
        assert resp.status_code == 201, describe(resp)
    body = image_manifest(OCI_MANIFEST, config, layers)
    resp = session.put(f"{url}/v2/{repo}/manifests/{tag}", data=body,
                       headers={"Content-Type": OCI_MANIFEST}, timeout=60)
    assert resp.status_code == 201, describe(resp)
    return Image(repo, OCI_MANIFEST, body, config, layers)


def test_32_clients_push_images_sharing_layers(registry):
    base = [rand_bytes(300_000), rand_bytes(100_000)]
    barrier = threading.Barrier(CLIENTS)

    def client(i):
        session = requests.Session()
        barrier.wait()
        images = [push_image(session, registry.url, f"team{i % 8}/app{i}", base, f"v{n}") for n in range(3)]
        # and a cross-repository mount of the shared base, as docker does between repositories
        resp = session.post(f"{registry.url}/v2/mounted{i}/blobs/uploads/?mount={sha256(base[0])}"
                            f"&from=team{i % 8}/app{i}", timeout=60)
        assert resp.status_code == 201, describe(resp)
        return images

    with ThreadPoolExecutor(CLIENTS) as pool:
        pushed = [image for images in pool.map(client, range(CLIENTS)) for image in images]

    for image in pushed:
        resp = requests.get(f"{registry.url}/v2/{image.name}/manifests/{image.digest}", timeout=30)
        assert_status(resp, 200)
        assert resp.content == image.body
        for blob in (image.config, *image.layers):
            got = requests.get(f"{registry.url}/v2/{image.name}/blobs/{sha256(blob)}", timeout=30)
            assert got.content == blob
    for i in range(CLIENTS):
        assert tags_of(registry, f"team{i % 8}/app{i}") == ["v0", "v1", "v2"]
    # shared layers are stored once
    for layer in base:
        hexdigest = sha256(layer).split(":")[1]
        assert (registry.root / "blobs" / "sha256" / hexdigest[:2] / hexdigest).stat().st_size == len(layer)
    code, report = fsck(registry.config_path)
    assert code == 0, report
    registry.stop()
    assert check_storage(registry.root) == []


def test_tag_rewritten_while_readers_pull(registry):
    name = "hot/tag"
    images = [make_image(registry, name, tag=None, layer_sizes=(1000,)) for _ in range(6)]
    bodies = {image.body for image in images}
    stop = threading.Event()
    seen = []

    def reader():
        session = requests.Session()
        while not stop.is_set():
            resp = session.get(f"{registry.url}/v2/{name}/manifests/latest", timeout=30)
            if resp.status_code == 404:
                continue   # before the first write
            assert resp.status_code == 200, describe(resp)
            assert resp.content in bodies, "a read saw a manifest nobody wrote"
            assert resp.headers["Docker-Content-Digest"] == sha256(resp.content)
            seen.append(resp.content)

    def writer(offset):
        session = requests.Session()
        for n in range(30):
            image = images[(n + offset) % len(images)]
            resp = session.put(f"{registry.url}/v2/{name}/manifests/latest", data=image.body,
                               headers={"Content-Type": OCI_MANIFEST}, timeout=30)
            assert resp.status_code == 201, describe(resp)
        return image.body

    with ThreadPoolExecutor(6) as pool:
        readers = [pool.submit(reader) for _ in range(4)]
        last = [pool.submit(writer, offset) for offset in (0, 3)]
        results = [future.result() for future in last]
        stop.set()
        for future in readers:
            future.result()
    final = requests.get(f"{registry.url}/v2/{name}/manifests/latest", timeout=30)
    assert final.content in results   # the last write of one of the two writers wins
    assert len(seen) > 10


def test_delete_races_pull(registry):
    name = "race/delete"
    rounds = 20
    stop = threading.Event()
    outcomes = {"complete": 0, "gone": 0}
    lock = threading.Lock()

    def puller(image_box):
        session = requests.Session()
        while not stop.is_set():
            image = image_box[0]
            resp = session.get(f"{registry.url}/v2/{name}/manifests/{image.digest}", timeout=30)
            if resp.status_code == 404:
                assert resp.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
                with lock:
                    outcomes["gone"] += 1
                continue
            assert resp.status_code == 200, describe(resp)
            assert resp.content == image.body
            for blob in (image.config, *image.layers):
                got = session.get(f"{registry.url}/v2/{name}/blobs/{sha256(blob)}", timeout=30)
                if got.status_code == 404:
                    assert got.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
                    continue
                assert got.status_code == 200, describe(got)
                assert got.content == blob, "a pull received a torn blob"
            with lock:
                outcomes["complete"] += 1

    box = [make_image(registry, name, tag="x", layer_sizes=(200_000,))]
    with ThreadPoolExecutor(5) as pool:
        pullers = [pool.submit(puller, box) for _ in range(4)]
        for _ in range(rounds):
            image = box[0]
            resp = requests.delete(f"{registry.url}/v2/{name}/manifests/{image.digest}", timeout=30)
            assert resp.status_code == 202, describe(resp)
            for blob in (image.config, *image.layers):
                resp = requests.delete(f"{registry.url}/v2/{name}/blobs/{sha256(blob)}", timeout=30)
                assert resp.status_code == 202, describe(resp)
            box[0] = make_image(registry, name, tag="x", layer_sizes=(200_000,))
        stop.set()
        for future in pullers:
            future.result()
    assert outcomes["complete"] > 0
    code, report = fsck(registry.config_path)
    assert code == 0, report
