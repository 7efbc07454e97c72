"""`extend = "../dockfix.toml"` in a configuration file, and ruff's `--show-settings`,
`--show-files` and `--show-fixes`."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockfix.run.config import ConfigError, load_config_file
from support.cli import run_dockfix

UPDATE_ALONE = (
    "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nMAINTAINER a\n"
)


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    (tmp_path / "dockfix.toml").write_text(
        'select = ["DF102", "DF105", "DF502"]\n'
        'extend-select = ["DF203"]\n'
        'exclude = ["legacy/*"]\n'
        "unsafe-fixes = true\n"
        '[per-file-ignores]\n"services/web/*" = ["DF105"]\n'
        '[root-user]\nuid = 2000\nuser = "app"\n'
    )
    svc = tmp_path / "services" / "web"
    svc.mkdir(parents=True)
    (svc / "Dockerfile").write_text(UPDATE_ALONE)
    (tmp_path / "services" / "dockfix.toml").write_text(
        'extend = "../dockfix.toml"\nignore = ["DF502"]\nextend-select = ["DF201"]\n'
        "[root-user]\nuid = 3000\n"
    )
    (tmp_path / "services" / "legacy").mkdir()
    (tmp_path / "services" / "legacy" / "Dockerfile").write_text(UPDATE_ALONE)
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "Dockerfile").write_text(UPDATE_ALONE)
    return tmp_path


def test_extend_reads_the_base_relative_to_the_file_and_the_extending_values_win(
    monorepo: Path,
) -> None:
    cfg = load_config_file(monorepo / "services" / "dockfix.toml")
    assert cfg.select == ["DF102", "DF105", "DF502"]  # inherited
    assert cfg.ignore == ["DF502"]  # own
    assert cfg.extend_select == ["DF203", "DF201"]  # extend-select adds up
    assert cfg.unsafe_fixes is True
    assert cfg.fixer_options["DF201"] == {"uid": 3000, "user": "app"}  # merged option by option
    assert cfg.origins["select"] == monorepo / "dockfix.toml"
    assert cfg.origins["ignore"] == monorepo / "services" / "dockfix.toml"
    # paths of an inherited key are relative to the file that wrote them (as ruff's are)
    assert cfg.is_excluded(monorepo / "legacy" / "Dockerfile")
    assert not cfg.is_excluded(monorepo / "services" / "legacy" / "Dockerfile")
    assert cfg.ignores_for(monorepo / "services" / "web" / "Dockerfile") == ["DF105"]


def test_an_own_list_replaces_the_base_list(monorepo: Path) -> None:
    (monorepo / "services" / "dockfix.toml").write_text(
        'extend = "../dockfix.toml"\nselect = ["DF102"]\nexclude = []\n'
    )
    cfg = load_config_file(monorepo / "services" / "dockfix.toml")
    assert cfg.select == ["DF102"] and cfg.exclude == []


def test_a_chain_of_extends_from_pyproject(monorepo: Path) -> None:
    team = monorepo / "services" / "web"
    (team / "pyproject.toml").write_text(
        '[tool.dockfix]\nextend = "../dockfix.toml"\nselect = ["DF102"]\n'
    )
    cfg = load_config_file(team / "pyproject.toml")
    assert cfg.select == ["DF102"] and cfg.ignore == ["DF502"]
    assert cfg.extend_select == ["DF203", "DF201"]


def test_a_cycle_and_a_missing_base_are_one_line_errors(monorepo: Path, tmp_path: Path) -> None:
    (monorepo / "dockfix.toml").write_text('extend = "services/dockfix.toml"\n')
    with pytest.raises(ConfigError, match=r"`extend` makes a cycle \(.*services/dockfix.toml"):
        load_config_file(monorepo / "services" / "dockfix.toml")
    r = run_dockfix("check", "services/web", cwd=monorepo)
    assert r.returncode == 2
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "makes a cycle" in errors[0]
    (monorepo / "dockfix.toml").write_text('extend = "nope/dockfix.toml"\n')
    with pytest.raises(ConfigError, match="`extend`: no such file"):
        load_config_file(monorepo / "dockfix.toml")


def test_an_error_in_the_base_names_the_base(monorepo: Path) -> None:
    (monorepo / "dockfix.toml").write_text('selekt = ["DF102"]\n')
    with pytest.raises(ConfigError, match=r"^.*/dockfix.toml: unknown key `selekt`") as err:
        load_config_file(monorepo / "services" / "dockfix.toml")
    assert "services" not in str(err.value)


def test_check_uses_the_merged_configuration(monorepo: Path) -> None:
    r = run_dockfix("check", "--output-format", "concise", ".", cwd=monorepo)
    codes = sorted(line.split()[1] for line in r.stdout.splitlines() if ": DF" in line)
    # DF102 (base select), DF201 (own extend-select); DF105 per-file ignored, DF502 ignored;
    # legacy/ excluded by the base, services/legacy/ not
    assert "legacy/Dockerfile" not in [ln.split(":")[0] for ln in r.stdout.splitlines()]
    assert codes == ["DF102", "DF102", "DF105", "DF201", "DF201"]


def test_show_settings_says_where_each_value_came_from(monorepo: Path) -> None:
    r = run_dockfix(
        "check", "--show-settings", "--extend-select", "DF402", "services/web", cwd=monorepo
    )
    assert r.returncode == 0, r.stderr
    lines = {ln.split(" = ")[0]: ln for ln in r.stdout.splitlines() if " = " in ln}
    assert r.stdout.startswith("Settings for services/web/Dockerfile\n")
    assert lines["select"].endswith("# dockfix.toml")
    assert lines["ignore"].endswith("# services/dockfix.toml")
    assert '["DF203", "DF201", "DF402"]' in lines["extend-select"]
    assert lines["extend-select"].endswith("# services/dockfix.toml + command line")
    assert lines["DF201.uid"].startswith("DF201.uid = 3000")
    assert lines["respect-gitignore"].endswith("# default")
    assert lines["context"].endswith("# default: the Dockerfile's directory")
    assert '["DF102", "DF201", "DF203", "DF402"]' in lines["enabled fixers"]


def test_show_files_lists_what_discovery_finds_and_checks_nothing(monorepo: Path) -> None:
    r = run_dockfix("check", "--show-files", ".", cwd=monorepo)
    assert r.returncode == 0
    assert r.stdout == "services/legacy/Dockerfile\nservices/web/Dockerfile\n"


def test_show_fixes_lists_the_fixes_per_file_and_code(monorepo: Path) -> None:
    r = run_dockfix("fix", "--show-fixes", "--write", "services", cwd=monorepo)
    assert r.returncode == 0, r.stderr
    assert (
        "Fixed 5 findings:\n"
        "- services/legacy/Dockerfile:\n"
        "    1 × DF102 (apt-update-alone)\n"
        "    1 × DF105 (apt-install-recommends)\n"
        "    1 × DF201 (root-user)\n"
        "- services/web/Dockerfile:\n"
        "    1 × DF102 (apt-update-alone)\n"
        "    1 × DF201 (root-user)\n"
    ) in r.stderr
    r = run_dockfix("check", "--show-fixes", "services", cwd=monorepo)
    assert "Would fix nothing." in r.stderr


def test_every_configuration_key_is_merged_by_extend() -> None:
    from dockfix.run.config import _ATTRIBUTES, TOP_KEYS

    # a key added without a merge rule would be read as a fixer's table by `extend`
    assert set(_ATTRIBUTES) == TOP_KEYS - {"extend"}


def test_extend_merges_severities_code_by_code_and_takes_the_own_threshold(
    monorepo: Path,
) -> None:
    (monorepo / "dockfix.toml").write_text(
        'failure-threshold = "info"\nmin-docker-engine = "20.10"\n'
        '[severity]\nDF102 = "error"\nDF105 = "style"\n'
    )
    (monorepo / "services" / "dockfix.toml").write_text(
        'extend = "../dockfix.toml"\nfailure-threshold = "warning"\n[severity]\nDF105 = "info"\n'
    )
    cfg = load_config_file(monorepo / "services" / "dockfix.toml")
    assert {c: s.value for c, s in cfg.severity.items()} == {"DF102": "error", "DF105": "info"}
    assert cfg.failure_threshold == "warning" and cfg.min_docker_engine == (20, 10)
