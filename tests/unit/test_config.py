from pathlib import Path

import pytest

from backends.config import load_settings
from backends.errors import ConfigError

GOOD = """
[[hosts]]
name = "prod"
address = "203.0.113.10"
user = "codex"
key = "keys/id_ed25519"
known_hosts = "~/.ssh/known_hosts"

[github]
platform_repo = "codex-k8s/codex-k8s"
project_repos = ["codex-k8s/project-example"]
token_env = "GATEROOM_GITHUB_TOKEN"

[thresholds]
min_cpus = 4
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateroom.toml"
    path.write_text(text)
    return path


def test_good_config_resolves_relative_paths_against_the_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    host = settings.hosts[0]
    assert host.key == tmp_path / "keys" / "id_ed25519"
    assert host.known_hosts == Path("~/.ssh/known_hosts").expanduser()
    assert host.port == 22
    assert settings.github is not None and settings.github.project_repos == ["codex-k8s/project-example"]
    assert settings.target_label == "codex@203.0.113.10:22"


def test_token_comes_from_the_environment_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.github is not None
    monkeypatch.delenv("GATEROOM_GITHUB_TOKEN", raising=False)
    assert settings.github.token() is None
    monkeypatch.setenv("GATEROOM_GITHUB_TOKEN", "ghp_example")
    assert settings.github.token() == "ghp_example"
    with pytest.raises(ConfigError, match=r"github\.token: unknown key"):
        load_settings(write(tmp_path, GOOD.replace('token_env = "GATEROOM_GITHUB_TOKEN"', 'token = "ghp_x"')))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hosts = [", r"gateroom\.toml: not valid TOML"),
        ("", r"gateroom\.toml: hosts: Field required"),
        (
            '[[hosts]]\nname="a"\naddress="h"\nport="22x"',
            r"hosts\[0\]\.port: Input should be a valid integer",
        ),
        (
            '[[hosts]]\nname="a"\naddress="h"\nport=70000',
            r"hosts\[0\]\.port: Input should be less than or equal to 65535",
        ),
        ('[[hosts]]\nname="a"\naddress="h"\nfoo=1', r"hosts\[0\]\.foo: unknown key"),
        (
            '[[hosts]]\nname="a"\naddress="h"\n[[hosts]]\nname="a"\naddress="i"',
            r"host name 'a' is used twice",
        ),
        (
            '[[hosts]]\nname="a"\naddress="h"\n[github]\nplatform_repo="o/p"\nproject_repos=["nope"]',
            r"github\.project_repos: 'nope' is not owner/name",
        ),
        (
            '[[hosts]]\nname="a"\naddress="h"\n[github]\nproject_repos=["o/r"]',
            r"github\.platform_repo: Field required",
        ),
        (
            '[[hosts]]\nname="a"\naddress="h"\n[thresholds]\nmin_cpus=0',
            r"thresholds\.min_cpus: Input should be greater than or equal to 1",
        ),
    ],
)
def test_every_problem_is_one_line_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(write(tmp_path, text))
    assert "\n" not in str(info.value)
    assert str(tmp_path / "gateroom.toml") in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "absent.toml")


def test_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "gateroom.example.toml"
    settings = load_settings(example)
    assert settings.hosts
