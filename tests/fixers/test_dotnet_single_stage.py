"""DF307 dotnet-single-stage: an SDK publish-and-run stage split into build and aspnet/runtime,
chosen from the real project file."""

from __future__ import annotations

from pathlib import Path

import pytest

from stage_split_runner import run_rule

WEB = """\
<Project Sdk="Microsoft.NET.Sdk.Web">
  <PropertyGroup>
    <TargetFramework>net8.0</TargetFramework>
    <Nullable>enable</Nullable>
  </PropertyGroup>
</Project>
"""
SRC = """\
FROM mcr.microsoft.com/dotnet/sdk:8.0-jammy
WORKDIR /src
COPY . .
RUN dotnet publish -c Release -o /app/publish
EXPOSE 8080
ENTRYPOINT ["dotnet", "/app/publish/Orders.Api.dll"]
"""


def run(text: str, tmp_path: Path, files: dict[str, str]) -> tuple[str, list]:
    return run_rule("DF307", text, tmp_path, {"Program.cs": "", **files})


def test_web_project_runs_on_aspnet(tmp_path: Path) -> None:
    out, left = run(SRC, tmp_path, {"Orders.Api.csproj": WEB})
    assert left == []
    assert out == (
        "FROM mcr.microsoft.com/dotnet/sdk:8.0-jammy AS build\n"
        "WORKDIR /src\n"
        "COPY . .\n"
        "RUN dotnet publish -c Release -o /app/publish\n"
        "\n"
        "FROM mcr.microsoft.com/dotnet/aspnet:8.0-jammy\n"
        "WORKDIR /app/publish\n"
        "COPY --from=build /app/publish /app/publish\n"
        "EXPOSE 8080\n"
        'ENTRYPOINT ["dotnet", "/app/publish/Orders.Api.dll"]\n'
    )


def test_console_project_runs_on_runtime_of_its_target_framework(tmp_path: Path) -> None:
    csproj = (
        WEB.replace(".Web", "")
        .replace("net8.0", "net6.0")
        .replace("<Nullable>", "<AssemblyName>Acme.Worker</AssemblyName><Nullable>")
    )
    src = SRC.replace("Orders.Api.dll", "Acme.Worker.dll")
    out, _ = run(src, tmp_path, {"Worker.csproj": csproj})
    assert "FROM mcr.microsoft.com/dotnet/runtime:6.0-jammy\n" in out


@pytest.mark.parametrize(
    ("src", "files", "reason"),
    [
        (
            SRC.replace(' "/app/publish/Orders.Api.dll"', ' "run"'),
            {},
            "`dotnet run` builds at start",
        ),
        (SRC.replace(" -o /app/publish", ""), {}, "names no output folder"),
        (
            SRC.replace("-c Release", "-c Release -r linux-x64 --self-contained"),
            {},
            "self-contained",
        ),
        (
            SRC,
            {
                "Orders.Api.csproj": WEB.replace(
                    "<TargetFramework>net8.0</TargetFramework>",
                    "<TargetFrameworks>net6.0;net8.0</TargetFrameworks>",
                )
            },
            "sets no single `TargetFramework`",
        ),
        (SRC, {"Tests.csproj": WEB}, "2 project files in `/src`"),
        (SRC.replace("Orders.Api.dll", "Other.dll"), {}, "not `/app/publish/Orders.Api.dll`"),
        (SRC.replace("sdk:8.0-jammy", "sdk:latest"), {}, "names no .NET version"),
    ],
)
def test_display_only_names_what_was_checked(
    tmp_path: Path, src: str, files: dict[str, str], reason: str
) -> None:
    out, left = run(src, tmp_path, {"Orders.Api.csproj": WEB, **files})
    assert out == src
    assert len(left) == 1 and left[0].fix is None and reason in (left[0].reason or ""), left


def test_no_publish_or_runtime_image_is_not_reported(tmp_path: Path) -> None:
    for src in (
        'FROM mcr.microsoft.com/dotnet/aspnet:8.0\nCOPY out /app\nENTRYPOINT ["dotnet", "/app/A.dll"]\n',
        'FROM mcr.microsoft.com/dotnet/sdk:8.0\nCOPY out /app\nENTRYPOINT ["dotnet", "/app/A.dll"]\n',
    ):
        assert run(src, tmp_path, {}) == (src, [])


def test_a_workdir_right_after_the_publish_is_not_written_twice(tmp_path: Path) -> None:
    src = SRC.replace("EXPOSE 8080\n", "WORKDIR /app/publish\nEXPOSE 8080\n")
    out, left = run(src, tmp_path, {"Orders.Api.csproj": WEB})
    assert left == []
    assert out.endswith(
        "FROM mcr.microsoft.com/dotnet/aspnet:8.0-jammy\n"
        "COPY --from=build /app/publish /app/publish\n"
        "WORKDIR /app/publish\n"
        "EXPOSE 8080\n"
        'ENTRYPOINT ["dotnet", "/app/publish/Orders.Api.dll"]\n'
    )
