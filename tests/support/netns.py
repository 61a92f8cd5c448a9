"""A network namespace joined to the host by a veth pair: a host that is not loopback, for the
end-to-end tests (docker's insecure-registries and certs.d apply only to such addresses) and for
the mirror benchmark's upstream behind a shaped link. Needs root and iproute2."""
from __future__ import annotations

import random
import subprocess
import uuid


class NetworkNamespace:
    """A network namespace joined to the host by a veth pair, with a random 10.x.y.0/30."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.name = f"berth-{tag}"
        self.host_if, self.ns_if = f"bh{tag}", f"bn{tag}"
        second, third = random.randint(100, 250), random.randint(0, 255)
        self.host_ip, self.ns_ip = f"10.{second}.{third}.1", f"10.{second}.{third}.2"

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Runs `ip`; on `check` a failure raises AssertionError showing its output."""
        proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
        if check and proc.returncode != 0:
            raise AssertionError(f"ip {' '.join(args)} failed with exit code {proc.returncode}:\n"
                                 f"{proc.stdout}{proc.stderr}")
        return proc

    def exec_prefix(self) -> list[str]:
        """Prepended to a command to run it inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def create(self) -> None:
        self.ip("netns", "add", self.name)
        self.ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        self.ip("link", "set", self.ns_if, "netns", self.name)
        self.ip("addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
        self.ip("link", "set", self.host_if, "up")
        self.ip("-n", self.name, "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if)
        self.ip("-n", self.name, "link", "set", self.ns_if, "up")
        self.ip("-n", self.name, "link", "set", "lo", "up")

    def delete(self) -> None:
        self.ip("link", "del", self.host_if, check=False)
        self.ip("netns", "del", self.name, check=False)
