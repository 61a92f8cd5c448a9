import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from registry import RegistryProcess  # noqa: E402


@pytest.fixture
def registry(tmp_path):
    """A fresh registryd on a free 127.0.0.1 port with an empty storage root."""
    server = RegistryProcess(tmp_path / "registry").start()
    yield server
    server.stop()


@pytest.fixture
def make_registry(tmp_path):
    """Factory for servers with custom settings; all are stopped afterwards."""
    servers = []

    def factory(name="registry", **kwargs):
        server = RegistryProcess(tmp_path / name, **kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()
