"""registryd exits, rather than hanging, when it cannot listen."""
import socket
import subprocess

from registry import default_config, registryd_binary


def test_port_in_use_exits_promptly_with_the_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "config.yml"
        # health checks and upload purging both running: neither may keep a failed start alive
        config.write_text(default_config(tmp_path / "data", port,
                                         extra="health:\n  storagedriver:\n    enabled: true\n"))
        result = subprocess.run([registryd_binary(), "--config", str(config)], capture_output=True, text=True,
                                timeout=20)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "address already in use" in out.lower() or "addrinuse" in out.lower(), out
    assert out.count("\n") < 20, out
