"""The Unix socket examples: the proxy and the bot share the socket's volume and its group."""

from __future__ import annotations

from pathlib import PurePosixPath

import yaml

from signproxy.settings.config import Settings
from tests.support.paths import ROOT

EXAMPLES = ROOT / "examples" / "unix-socket"
IMAGE_GID = "10001"  # the Dockerfile's USER 10001:10001


def _mounts(container: dict, volume_key: str = "volumes") -> dict[str, str]:
    return {entry.split(":")[0]: entry.split(":")[1] for entry in container.get(volume_key, [])}


def test_compose_shares_the_socket_volume_and_group():
    """Compose: both services mount the socket's volume where the proxy creates it; group 10001."""
    compose = yaml.safe_load((EXAMPLES / "compose.yaml").read_text())
    proxy, bot = compose["services"]["signproxy"], compose["services"]["bot"]
    socket = PurePosixPath(proxy["environment"]["SIGNPROXY_UNIX_SOCKET"])
    proxy_mounts, bot_mounts = _mounts(proxy), _mounts(bot)
    shared = {name for name, path in proxy_mounts.items() if path == str(socket.parent)}
    assert shared
    assert shared <= set(compose["volumes"])
    assert all(bot_mounts.get(name) == str(socket.parent) for name in shared)
    assert str(socket) in " ".join(bot["command"])
    assert bot["group_add"] == [IMAGE_GID]
    assert bot["network_mode"] == "none"
    assert proxy["environment"]["SIGNPROXY_HOST"] == "127.0.0.1"
    # The one-shot step hands the fresh volume to the proxy's user before the proxy starts.
    assert proxy["depends_on"]["socket-dir"]["condition"] == "service_completed_successfully"
    assert _mounts(compose["services"]["socket-dir"]).keys() == shared


def test_kubernetes_pod_shares_the_socket_volume_and_group():
    """Kubernetes: an emptyDir both containers mount; fsGroup 10001 gives the socket's group."""
    pod = yaml.safe_load((EXAMPLES / "kubernetes.yaml").read_text())
    spec = pod["spec"]
    proxy = next(c for c in spec["initContainers"] if c["name"] == "signproxy")
    bot = next(c for c in spec["containers"] if c["name"] == "bot")
    env = {item["name"]: item["value"] for item in proxy["env"]}
    socket = PurePosixPath(env["SIGNPROXY_UNIX_SOCKET"])
    proxy_mounts = {m["name"]: m["mountPath"] for m in proxy["volumeMounts"]}
    bot_mounts = {m["name"]: m["mountPath"] for m in bot["volumeMounts"]}
    shared = [name for name, path in proxy_mounts.items() if path == str(socket.parent)]
    assert shared
    assert all(bot_mounts.get(name) == str(socket.parent) for name in shared)
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    assert all("emptyDir" in volumes[name] for name in shared)
    assert str(spec["securityContext"]["fsGroup"]) == IMAGE_GID
    assert proxy["restartPolicy"] == "Always"  # a native sidecar: up before the bot
    bot_env = {item["name"]: item["value"] for item in bot["env"]}
    assert str(socket) in bot_env.values()


def test_compose_proxy_settings_are_valid(tmp_path):
    """The compose proxy's variables validate, its socket placed in an existing directory."""
    compose = yaml.safe_load((EXAMPLES / "compose.yaml").read_text())
    env = compose["services"]["signproxy"]["environment"]
    socket = PurePosixPath(env["SIGNPROXY_UNIX_SOCKET"])
    credentials = {
        "OKX_API_KEY": "fake-example-key-01",
        "OKX_API_SECRET": "FAKE0EXAMPLE0SECRET0000000000001",
        "OKX_API_PASSPHRASE": "fake-example-pass",
    }
    kept = {k: v for k, v in env.items() if not k.startswith("OKX_API_")}
    settings = Settings.from_env({**kept, **credentials}, unix=str(tmp_path / socket.name))
    assert settings.unix_socket is not None
    assert settings.unix_socket.path == str(tmp_path / socket.name)
