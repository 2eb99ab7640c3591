"""`[cluster] via_host` and `kubeconfig = "host:"`: checked against the hosts, never taken for a path."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.config import ClusterSettings, Settings, load_settings
from backends.errors import ConfigError

HOSTS = '[[hosts]]\nname = "prod-vps"\naddress = "203.0.113.10"\n'


def _load(tmp_path: Path, cluster: str) -> Settings:
    path = tmp_path / "gateroom.toml"
    path.write_text(HOSTS + "[cluster]\n" + cluster)
    return load_settings(path)


def test_host_kubeconfig_through_a_known_host(tmp_path: Path) -> None:
    settings = load_settings_ok(tmp_path, 'kubeconfig = "host:"\nvia_host = "prod-vps"\n')
    assert settings.kubeconfig == "host:" and settings.kubeconfig_on_host and settings.via_host == "prod-vps"


def test_a_file_kubeconfig_is_still_a_path_relative_to_the_file(tmp_path: Path) -> None:
    settings = load_settings_ok(tmp_path, 'kubeconfig = "kube.yaml"\nvia_host = "prod-vps"\n')
    assert settings.kubeconfig == tmp_path.resolve() / "kube.yaml" and not settings.kubeconfig_on_host


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        ('kubeconfig = "host:"\n', r'cluster: kubeconfig = "host:" needs via_host'),
        ('via_host = "elsewhere"\n', r"cluster\.via_host names host 'elsewhere', which is not in hosts"),
    ],
)
def test_problems_are_one_line(tmp_path: Path, cluster: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, cluster)


def load_settings_ok(tmp_path: Path, cluster: str) -> ClusterSettings:
    settings = _load(tmp_path, cluster)
    assert settings.cluster is not None
    return settings.cluster
