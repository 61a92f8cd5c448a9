"""kill -9 at random moments while clients push blobs (whole and chunked), push manifests,
move tags and delete, many rounds. After each crash: SQLite's integrity check passes, tags
name existing manifests, every content-addressed file hashes to its name (checked offline);
then, restarted, every acknowledged blob and manifest is there byte for byte, acknowledged
deletions stay deleted, tags name their last acknowledged (or in-flight) manifest, upload
sessions are resumable or cleanly unknown, and new pushes work.

BERTH_CRASH_ROUNDS sets the number of rounds (default 12, about a minute on the debug build).
"""
from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field

import requests

from consistency import check_storage, upload_rows
from helpers import (OCI_MANIFEST, config_blob, describe, image_manifest, location_path,
                     make_image, rand_bytes, sha256, with_digest)

ROUNDS = int(os.environ.get("BERTH_CRASH_ROUNDS", "12"))
WORKERS = 6
SHARED_LAYER = os.urandom(150_000)
OCTET = {"Content-Type": "application/octet-stream"}


@dataclass
class Session:
    repo: str
    location: str
    data: bytes            # the whole blob this session will hold
    acked: int             # bytes the server acknowledged
    inflight: int = 0      # bytes of a chunk sent but not acknowledged


@dataclass
class Ledger:
    """What the server acknowledged (and what was in flight when it died), per worker."""
    blobs: dict = field(default_factory=dict)           # (repo, digest) -> bytes
    deleted_blobs: set = field(default_factory=set)
    maybe_deleted_blobs: set = field(default_factory=set)
    manifests: dict = field(default_factory=dict)       # (repo, digest) -> body
    deleted_manifests: set = field(default_factory=set)
    maybe_deleted_manifests: set = field(default_factory=set)
    tags: dict = field(default_factory=dict)            # (repo, tag) -> [acked digest, ...]
    inflight_tags: dict = field(default_factory=dict)   # (repo, tag) -> digest
    sessions: list = field(default_factory=list)        # idle sessions left open
    broken_sessions: list = field(default_factory=list)  # sessions a crash cut off


class Worker(threading.Thread):
    def __init__(self, index: int, url: str, ledger: Ledger, stop: threading.Event, seed: int):
        super().__init__(daemon=True)
        self.index, self.url, self.ledger, self.stop_event = index, url, ledger, stop
        self.random = random.Random(seed)
        self.http = requests.Session()
        self.repo = f"crash/w{index}"
        self.error: BaseException | None = None

    def request(self, method, path, **kwargs):
        return self.http.request(method, self.url + path, timeout=20, allow_redirects=False, **kwargs)

    def run(self):
        operations = [self.push_whole, self.push_chunked, self.leave_session, self.push_manifest,
                      self.push_and_delete_manifest, self.push_and_delete_blob]
        while not self.stop_event.is_set():
            try:
                self.random.choice(operations)()
            except (requests.ConnectionError, requests.Timeout):
                return   # the server is gone
            except BaseException as error:  # an unexpected answer: the test fails
                self.error = error
                return

    def expect(self, resp, status):
        assert resp.status_code == status, describe(resp)

    def push_whole(self, data=None):
        data = data if data is not None else (SHARED_LAYER if self.random.random() < 0.3
                                              else rand_bytes(self.random.randint(1, 300_000)))
        digest = sha256(data)
        resp = self.request("POST", f"/v2/{self.repo}/blobs/uploads/?digest={digest}", data=data, headers=OCTET)
        self.expect(resp, 201)
        self.ledger.blobs[(self.repo, digest)] = data
        self.ledger.deleted_blobs.discard((self.repo, digest))
        return digest

    def push_chunked(self, leave_open=False):
        data = rand_bytes(self.random.randint(10, 400_000))
        resp = self.request("POST", f"/v2/{self.repo}/blobs/uploads/")
        self.expect(resp, 202)
        session = Session(self.repo, location_path(resp), data, 0)
        cuts = sorted(self.random.sample(range(1, len(data)), min(2, len(data) - 1)))
        bounds = [0, *cuts, len(data)]
        chunks = list(zip(bounds, bounds[1:]))
        if leave_open:
            chunks = chunks[:1]
        for start, end in chunks:
            session.inflight = end - start
            self.ledger.broken_sessions.append(session)
            resp = self.request("PATCH", session.location, data=data[start:end],
                                headers={**OCTET, "Content-Range": f"{start}-{end - 1}"})
            self.expect(resp, 202)
            self.ledger.broken_sessions.remove(session)
            session.acked, session.inflight = end, 0
            session.location = location_path(resp)
        if leave_open:
            self.ledger.sessions.append(session)
            return
        self.ledger.broken_sessions.append(session)
        resp = self.request("PUT", with_digest(session.location, sha256(data)))
        self.expect(resp, 201)
        self.ledger.broken_sessions.remove(session)
        self.ledger.blobs[(self.repo, sha256(data))] = data

    def leave_session(self):
        self.push_chunked(leave_open=True)

    def push_manifest(self, tag=None):
        config = config_blob(str(self.random.random()))
        layers = [SHARED_LAYER, rand_bytes(self.random.randint(1, 50_000))]
        for blob in (config, *layers):
            self.push_whole(blob)
        body = image_manifest(OCI_MANIFEST, config, layers)
        digest = sha256(body)
        tag = tag or f"t{self.random.randint(0, 2)}"
        key = (self.repo, tag)
        reference = tag if tag != "-" else digest
        if tag != "-":
            self.ledger.inflight_tags[key] = digest
        resp = self.request("PUT", f"/v2/{self.repo}/manifests/{reference}", data=body,
                            headers={"Content-Type": OCI_MANIFEST})
        self.expect(resp, 201)
        self.ledger.manifests[(self.repo, digest)] = body
        if tag != "-":
            self.ledger.tags.setdefault(key, []).append(digest)
            del self.ledger.inflight_tags[key]
        return digest

    def push_and_delete_manifest(self):
        digest = self.push_manifest(tag="-")
        key = (self.repo, digest)
        self.ledger.maybe_deleted_manifests.add(key)
        resp = self.request("DELETE", f"/v2/{self.repo}/manifests/{digest}")
        self.expect(resp, 202)
        self.ledger.deleted_manifests.add(key)

    def push_and_delete_blob(self):
        data = rand_bytes(self.random.randint(1, 5000))
        digest = self.push_whole(data)
        key = (self.repo, digest)
        del self.ledger.blobs[key]
        self.ledger.maybe_deleted_blobs.add(key)
        resp = self.request("DELETE", f"/v2/{self.repo}/blobs/{digest}")
        self.expect(resp, 202)
        self.ledger.deleted_blobs.add(key)


def verify_after_restart(reg, ledgers: list[Ledger]):
    get = lambda path, **kw: requests.get(reg.url + path, timeout=20, **kw)  # noqa: E731
    for ledger in ledgers:
        for (repo, digest), data in ledger.blobs.items():
            resp = get(f"/v2/{repo}/blobs/{digest}")
            assert resp.status_code == 200, describe(resp)
            assert resp.content == data
        for key in ledger.deleted_blobs:
            if key not in ledger.blobs:
                assert get(f"/v2/{key[0]}/blobs/{key[1]}").status_code == 404
        for (repo, digest), body in ledger.manifests.items():
            resp = get(f"/v2/{repo}/manifests/{digest}")
            if (repo, digest) in ledger.deleted_manifests:
                assert resp.status_code == 404, describe(resp)
            elif (repo, digest) not in ledger.maybe_deleted_manifests:
                assert resp.status_code == 200, describe(resp)
                assert resp.content == body
        for key in set(ledger.tags) | set(ledger.inflight_tags):
            allowed = set(ledger.tags.get(key, [])[-1:]) | {ledger.inflight_tags.get(key)}
            resp = get(f"/v2/{key[0]}/manifests/{key[1]}")
            if resp.status_code == 404:
                assert key not in ledger.tags, f"acknowledged tag {key} lost"
                continue
            assert resp.status_code == 200, describe(resp)
            assert sha256(resp.content) in allowed, (key, allowed)
            ledger.tags.setdefault(key, []).append(sha256(resp.content))   # an in-flight write may have landed
        for session in ledger.sessions:
            resp = get(session.location)
            assert resp.status_code == 204, describe(resp)
            assert resp.headers["Range"] == f"0-{session.acked - 1}"
            finish(reg, session, session.acked)
        for session in ledger.broken_sessions:
            resp = get(session.location)
            if resp.status_code == 404:
                continue   # cleanly unknown (the crash came before the session row, or after its PUT)
            assert resp.status_code == 204, describe(resp)
            size = int(resp.headers["Range"].split("-")[1]) + 1 if session.acked else 0
            assert session.acked <= size <= session.acked + session.inflight or (size == 1 and not session.acked)
            if session.acked:
                finish(reg, session, size)
    ledgers_clear(ledgers)


def finish(reg, session: Session, offset: int):
    rest = session.data[offset:]
    resp = requests.patch(reg.url + session.location, data=rest, timeout=20,
                          headers={**OCTET, "Content-Range": f"{offset}-{offset + len(rest) - 1}"})
    assert resp.status_code == 202, describe(resp)
    resp = requests.put(reg.url + with_digest(location_path(resp), sha256(session.data)), timeout=20)
    assert resp.status_code == 201, describe(resp)
    got = requests.get(f"{reg.url}/v2/{session.repo}/blobs/{sha256(session.data)}", timeout=20)
    assert got.content == session.data


def ledgers_clear(ledgers):
    for ledger in ledgers:
        ledger.sessions.clear()
        ledger.broken_sessions.clear()
        ledger.inflight_tags.clear()
        ledger.maybe_deleted_blobs -= ledger.deleted_blobs
        ledger.maybe_deleted_manifests -= ledger.deleted_manifests


def test_kill_9_at_random_moments_loses_nothing(registry):
    seed = int(os.environ.get("BERTH_CRASH_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    ledgers = [Ledger() for _ in range(WORKERS)]
    acknowledged = 0
    for round_number in range(ROUNDS):
        stop = threading.Event()
        workers = [Worker(i, registry.url, ledgers[i], stop, rng.randrange(1 << 30)) for i in range(WORKERS)]
        for worker in workers:
            worker.start()
        time.sleep(rng.uniform(0.05, 2.0))
        registry.kill()
        stop.set()
        for worker in workers:
            worker.join(30)
            assert worker.error is None, f"seed {seed} round {round_number}: {worker.error!r}"
        problems = check_storage(registry.root)
        assert problems == [], f"seed {seed} round {round_number}: {problems}"

        registry.start()
        acknowledged = sum(len(ledger.blobs) + len(ledger.manifests) for ledger in ledgers)
        verify_after_restart(registry, ledgers)
        # startup recovery left no staging file without its session row
        staged = {p.name for p in (registry.root / "uploads").iterdir() if not p.name.startswith(".")}
        assert staged <= upload_rows(registry.root), staged - upload_rows(registry.root)

    make_image(registry, "crash/after", tag="v1")
    assert "recovered after an unclean stop" in registry.log()
    print(f"crash harness: seed {seed}, {ROUNDS} rounds, {acknowledged} acknowledged blobs and manifests checked")
