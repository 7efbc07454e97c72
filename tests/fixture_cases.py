"""The shipped fixtures: ``fixtures/<CODE>-<name>/<case>/Dockerfile`` (+ expected outputs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True)
class Case:
    code: str
    directory: Path

    @property
    def id(self) -> str:
        return f"{self.directory.parent.name}/{self.directory.name}"

    @property
    def dockerfile(self) -> Path:
        return self.directory / "Dockerfile"

    def read(self, name: str = "Dockerfile") -> str | None:
        p = self.directory / name
        if not p.is_file():
            return None
        return p.read_bytes().decode("utf-8")


def cases() -> list[Case]:
    out = []
    for rule_dir in sorted(ROOT.iterdir()) if ROOT.is_dir() else []:
        if not rule_dir.is_dir() or "-" not in rule_dir.name:
            continue
        code = rule_dir.name.split("-", 1)[0]
        for case_dir in sorted(rule_dir.iterdir()):
            if (case_dir / "Dockerfile").is_file():
                out.append(Case(code, case_dir))
    return out
