"""Flags and values BuildKit rejects after its parser accepted the file: when it reads an
instruction's flags (`RUN --foo`, `HEALTHCHECK --interval=xyz`, `--network=foo`) and when it
converts the instructions to LLB (`EXPOSE abc`, `STOPSIGNAL FOO`, `--mount=type=bogus`,
`COPY --chmod=abc`, `ADD --checksum=xyz`). build_error says so in BuildKit's words; where
BuildKit's own checker (dockfix-buildkit-lint) is installed it is asked too, all files in one
call, and must agree: it rejects a file exactly when dockfix does, with dockfix's words in
its message (BuildKit adds `dockerfile parse error on line N:` to some, and a `did you mean`
hint to an unknown mount key).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from dockfix.build_rules import build_error, go_duration
from dockfix.syntax import parse_lossless

BUILDKIT_LINT = shutil.which("dockfix-buildkit-lint")
needs_buildkit = pytest.mark.skipif(
    BUILDKIT_LINT is None, reason="dockfix-buildkit-lint is not installed"
)

CHMOD_RANGE = "it should be octal string and between 0 and 07777"

# (instructions after `FROM alpine:3.20`, build_error's reason or None when the build accepts)
CASES: list[tuple[str, str | None]] = [
    # flags, as the instruction parse reads them
    ("RUN --foo true", "unknown flag: --foo"),
    ("COPY --bar a b", "unknown flag: --bar"),
    ("ADD --from=x a b", "unknown flag: --from"),
    ("COPY --unpack a b", "unknown flag: --unpack"),
    ("RUN --NETWORK=host true", "unknown flag: --NETWORK"),
    ("HEALTHCHECK --foo=1 CMD true", "unknown flag: --foo"),
    ("WORKDIR --foo /srv", "unknown flag: --foo"),
    ("ONBUILD --foo RUN true", "unknown flag: --foo"),
    ("RUN --network true", "missing a value on flag: --network"),
    ("COPY --link= a b", "missing a value on flag: --link"),
    ("COPY --link=xyz a b", "expecting boolean value for flag --link, not: xyz"),
    ("COPY --link=1 a b", "expecting boolean value for flag --link, not: 1"),
    ("ADD --keep-git-dir=xyz a b", "expecting boolean value for flag --keep-git-dir, not: xyz"),
    ("COPY --from=x --from=y a b", "duplicate flag specified: --from"),
    ("RUN --network=host --network=none true", "duplicate flag specified: --network"),
    ("RUN --network=foo true", 'invalid network mode "foo"'),
    ("RUN --network=NONE true", 'invalid network mode "NONE"'),
    ("RUN --mount= true", "failed to parse csv mounts: EOF"),
    ("HEALTHCHECK --interval=xyz CMD true", 'time: invalid duration "xyz"'),
    ("HEALTHCHECK --timeout=30 CMD true", 'time: missing unit in duration "30"'),
    ("HEALTHCHECK --start-period=1d CMD true", 'time: unknown unit "d" in duration "1d"'),
    ("HEALTHCHECK --interval=1m-1s CMD true", 'time: unknown unit "m-" in duration "1m-1s"'),
    ("HEALTHCHECK --interval=9999999999h CMD true", 'time: invalid duration "9999999999h"'),
    ("HEALTHCHECK --interval=-1s CMD true", 'Interval "interval" cannot be less than 1ms'),
    (
        "HEALTHCHECK --start-interval=999us CMD true",
        'Interval "start-interval" cannot be less than 1ms',
    ),
    ("HEALTHCHECK --retries=xyz CMD true", 'strconv.ParseInt: parsing "xyz": invalid syntax'),
    ("HEALTHCHECK --retries=1.5 CMD true", 'strconv.ParseInt: parsing "1.5": invalid syntax'),
    ("HEALTHCHECK --retries=-1 CMD true", "--retries cannot be negative (-1)"),
    (
        "HEALTHCHECK --retries=99999999999999999999 CMD true",
        'strconv.ParseInt: parsing "99999999999999999999": value out of range',
    ),
    (
        "HEALTHCHECK --retries=2147483648 CMD true",
        'strconv.ParseInt: parsing "2147483648": value out of range',
    ),
    ('VOLUME ["/data", " "]', "VOLUME specified can not be an empty string"),
    ("ARG VERSION=1 =x", "ARG names can not be blank"),
    ("ENV =x", "ENV names can not be blank"),
    ("LABEL a=b =c", "LABEL names can not be blank"),
    # values, as the conversion to LLB reads them
    ("EXPOSE abc", "invalid containerPort: abc"),
    ("EXPOSE 80 65536", "invalid containerPort: 65536"),
    ("EXPOSE 8010-8000", "invalid containerPort: 8010-8000"),
    ("EXPOSE 90-80/udp", "invalid containerPort: 90-80"),
    ("EXPOSE -1", "invalid containerPort: -1"),
    ("EXPOSE 0x50", "invalid containerPort: 0x50"),
    ("EXPOSE 80/xyz", 'invalid port: "80/xyz": invalid proto: xyz'),
    ("EXPOSE 80/tcp/udp", 'invalid port: "80/tcp/udp": invalid proto: tcp/udp'),
    ("EXPOSE /tcp", 'invalid port: "/tcp": no port specified'),
    ("STOPSIGNAL FOO", "invalid signal: FOO"),
    ("STOPSIGNAL 0", "invalid signal: 0"),
    ("STOPSIGNAL 9x", "invalid signal: 9x"),
    ("STOPSIGNAL SIGRTMIN+16", "invalid signal: SIGRTMIN+16"),
    ("STOPSIGNAL SIGSIGTERM", "invalid signal: SIGSIGTERM"),
    ("STOPSIGNAL SIGTERM extra", "invalid signal: SIGTERM extra"),
    ("RUN --mount=type=bogus true", 'unsupported mount type "bogus"'),
    ("RUN --mount=type=cache,target=/ true", 'invalid mount target "/"'),
    ("RUN --mount=type=tmpfs,dst=/x,target=/ true", 'invalid mount target "/"'),
    ("RUN --mount=type=cache,target=/x,sharing=bogus true", 'unsupported sharing value "bogus"'),
    ("RUN --mount=type=cache,target=/x,mode=abc true", "invalid value abc for mode"),
    ("RUN --mount=type=cache,target=/x,mode=999 true", "invalid value 999 for mode"),
    ("RUN --mount=type=cache,target=/x,uid=-1 true", "invalid value -1 for uid"),
    ("RUN --mount=type=secret,id=x,gid=4294967296 true", "invalid value 4294967296 for gid"),
    ("RUN --mount=type=cache,target=/x,foo=bar true", "unexpected key 'foo' in 'foo=bar'"),
    ("RUN --mount=type=cache,target=/x,Foo=bar true", "unexpected key 'foo' in 'Foo=bar'"),
    ("RUN --mount=type=cache,target=/x,src true", "invalid field 'src' must be a key=value pair"),
    ("RUN --mount=type=cache,target=/x, true", "invalid field '' must be a key=value pair"),
    ("RUN --mount=type=cache,target=/x,readonly=maybe true", "invalid value for readonly: maybe"),
    ("RUN --mount=type=secret,id=x,required=no true", "invalid value for required: no"),
    (
        "RUN --mount=type=cache,target=/x,required true",
        "unexpected key 'required' for mount type 'cache'",
    ),
    (
        "RUN --mount=size=1,type=tmpfs,target=/x true",
        "unexpected key 'size' for mount type 'bind'",
    ),
    ("RUN --mount=type=tmpfs,target=/x,size=abc true", "invalid value for size: abc"),
    ("RUN --mount=type=bind,target=/x,mode=0755 true", 'mode not allowed for "bind" type mounts'),
    ("RUN --mount=type=tmpfs,target=/x,uid=1 true", 'uid not allowed for "tmpfs" type mounts'),
    (
        "RUN --mount=type=bind,target=/x,sharing=locked true",
        "invalid cache sharing set for bind mount",
    ),
    ("RUN --mount=type=secret,id=x,sharing=locked true", "secret mount should not define sharing"),
    ("RUN --mount=type=secret true", "invalid secret mount. one of source, target required"),
    (
        "RUN --mount=type=secret,env=TOKEN true",
        "invalid secret mount. one of source, target required",
    ),
    ("COPY --chmod=abc a b", "invalid syntax"),
    ("COPY --chmod=U+x a b", "invalid syntax"),
    ("ADD --chmod=u+x, a b", "invalid syntax"),
    ("COPY --chmod=999 a b", f"invalid chmod parameter: '999'. {CHMOD_RANGE}"),
    ("COPY --chmod=17777 a b", f"invalid chmod parameter: '17777'. {CHMOD_RANGE}"),
    ("COPY --chmod=0o755 a b", f"invalid chmod parameter: '0o755'. {CHMOD_RANGE}"),
    ("ADD --checksum=xyz https://example.com/a.tgz /y", "invalid checksum digest format"),
    ("ADD --checksum=sha256:abc https://example.com/a.tgz /y", "invalid checksum digest length"),
    ("ADD --checksum=md5:abc https://example.com/a.tgz /y", "unsupported digest algorithm"),
    (
        "ADD --checksum=SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        " https://example.com/a.tgz /y",
        "invalid checksum digest format",
    ),
    ("ADD --checksum=sha256:abc app.tgz /y", "checksum requires HTTP(S) or Git sources"),
    (
        "ADD --checksum=sha256:abc https://example.com/a https://example.com/b /y/",
        "checksum can't be specified for multiple sources",
    ),
    # the order BuildKit finds them in: the instruction parse reads the whole file first
    ("EXPOSE abc\nRUN --network=foo true", 'invalid network mode "foo"'),
    ("STOPSIGNAL FOO\nEXPOSE abc", "invalid signal: FOO"),
    ("FROM alpine:3.20 AS unused\nEXPOSE abc\nFROM alpine:3.20", "invalid containerPort: abc"),
    # what the build accepts
    ("EXPOSE 80/tcp 443/udp 8000-8010 80/TCP 9/sctp 0 65535 080 +80 80/", None),
    ("ARG PORT=8080\nEXPOSE $PORT ${PORT:-80}/udp", None),
    ('EXPOSE "80" 8\\0', None),
    ("STOPSIGNAL SIGTERM\nSTOPSIGNAL TERM\nSTOPSIGNAL sigkill\nSTOPSIGNAL SIGRTMIN+3", None),
    (
        "STOPSIGNAL 9\nSTOPSIGNAL -1\nSTOPSIGNAL 999\nSTOPSIGNAL SIGRTMAX-14\nSTOPSIGNAL SIGPWR",
        None,
    ),
    ('STOPSIGNAL "SIGTERM"', None),
    ("RUN --mount=type=cache,target=/root/.cache,sharing=locked true", None),
    ("RUN --mount=type=cache,target=/a --mount=type=cache,target=/b,sharing=SHARED true", None),
    ("RUN --mount=TYPE=Cache,TARGET=/x,id=pip,mode=0755,uid=0,gid=4294967295,ro true", None),
    ("RUN --mount=type=secret,id=x,required true", None),
    ("RUN --mount=type=secret,id=x,required=TRUE,env=X,mode=0400 true", None),
    ("RUN --mount=type=secret,source=/run/token true", None),
    ("RUN --mount=type=ssh true", None),
    ("RUN --mount=type=ssh,id=default,required=false,mode=0600 true", None),
    ("RUN --mount=type=tmpfs,target=/t,size=10m true", None),
    ("RUN --mount=target=/x true", None),
    ("WORKDIR /src\nRUN --mount=type=bind,target=. --mount=type=cache,target=cache true", None),
    ("RUN --mount=type=bind,src=a,dst=/x,from=build true", None),
    ('RUN --mount="type=cache,target=/x" true', None),
    ("ARG MODE=0755\nRUN --mount=type=cache,target=/x,mode=$MODE true", None),
    ("RUN --network=none true\nRUN --network=host true\nRUN --network=default true", None),
    ("RUN --device=a --device=b true", None),
    ("HEALTHCHECK --interval=30s --timeout=1m30s --start-period=0s CMD true", None),
    ("HEALTHCHECK --interval=0 --start-interval=1ms --timeout=.5s CMD true", None),
    ("HEALTHCHECK --interval=1.s --timeout=+1s --retries=+3 CMD true", None),
    ("HEALTHCHECK --interval= --retries= CMD true", None),
    ("HEALTHCHECK --retries=0 CMD true", None),
    (
        "HEALTHCHECK --retries=-0 --timeout=-0 CMD true\nHEALTHCHECK --retries=2147483647 CMD true",
        None,
    ),
    ('ENV a =x\nENV b="x =y"\nLABEL c="=d"\nARG e="=f"\nVOLUME ["/data"]', None),
    ("HEALTHCHECK --interval=xyz NONE", None),
    (
        "COPY --chmod=0755 a b\nCOPY --chmod=755 a b\nCOPY --chmod=7777 a b\nCOPY --chmod=0 a b",
        None,
    ),
    ("COPY --chmod=u+x a b\nCOPY --chmod=ug+rwX,o-w a b\nCOPY --chmod=u=g a b", None),
    ("COPY --chmod=+x a b\nCOPY --chmod==r a b\nADD --chmod=u+s,g+t a b", None),
    ("COPY --chmod= a b\nCOPY --chmod=$MODE a b", None),
    ("COPY --link a b\nCOPY --link=TRUE a b\nCOPY --link=False a b", None),
    ("COPY --exclude=*.txt --exclude=*.md a b", None),
    ("COPY --from=alpine:3.20 --chown=app:app a b", None),
    (
        "ADD --checksum=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        " https://example.com/a.tgz /y",
        None,
    ),
    ("ADD --checksum=sha256:abc https://github.com/x/y.git /y", None),
    ("ADD --checksum= https://example.com/a.tgz /y", None),
    ("ADD --keep-git-dir --unpack=true --link=false a b", None),
    ("ARG --foo=1 X\nSTOPSIGNAL --foo 9", None),  # BuildKit does not read their flags
    ("ONBUILD RUN --foo true\nONBUILD EXPOSE abc\nONBUILD STOPSIGNAL FOO", None),
]

# BuildKit versions disagree on these, or dockfix cannot know the value: dockfix accepts them
# (a false rejection would stop it from checking a file that builds), the checker built from
# this BuildKit rejects them.
NOT_JUDGED = [
    "RUN --security=insecure true",  # labs, and newer BuildKit
    "COPY --parents a b",  # newer BuildKit
    "ARG NET\nRUN --network=$NET true",  # values with `$` are never judged
    "HEALTHCHECK --interval=$EVERY CMD true",
    "STOPSIGNAL $SIGNAL",
    "RUN --mount=type=$KIND,target=/x true",
    "RUN --mount=type=cache,target=/x,mode=$MODE true",
    "EXPOSE 1.2.3.4:80",  # the IP:host:container forms changed over versions
    "HEALTHCHECK --interval=1\u00b5s CMD true",  # a unit some versions spell, others not
    "COPY --from=5 a b",  # stage references: left to BuildKit
    # a relative or missing target is the working directory's, maybe the base image's
    "RUN --mount=type=cache true",
    "RUN --mount=type=cache,target=. true",
]


def _file(instructions: str) -> str:
    return f"FROM alpine:3.20\n{instructions}\n"


def _reason(text: str) -> str | None:
    doc = parse_lossless(text)
    assert doc.error is None  # BuildKit's parser accepts each
    problem = build_error(doc)
    return None if problem is None else problem.reason


@pytest.mark.parametrize(("instructions", "reason"), CASES)
def test_build_error_names_what_the_build_rejects(instructions: str, reason: str | None) -> None:
    assert _reason(_file(instructions)) == reason


def test_the_rejection_names_the_instruction_line() -> None:
    problem = build_error(parse_lossless("FROM alpine:3.20\nRUN true\nEXPOSE 80 \\\n  abc\n"))
    assert problem is not None and problem.line == 3


@pytest.mark.parametrize("instructions", NOT_JUDGED)
def test_values_dockfix_cannot_judge_are_accepted(instructions: str) -> None:
    assert _reason(_file(instructions)) is None


def test_a_file_that_names_its_frontend_may_use_flags_this_table_does_not_know() -> None:
    """`# syntax=docker/dockerfile:1` builds with the newest 1.x frontend, whose flags may be
    newer than dockfix: an unknown flag is left to it (a bad value of a known one is not)."""
    newer = "COPY --some-future-flag=yes a b"
    assert _reason(_file(newer)) == "unknown flag: --some-future-flag"
    named = f"# syntax=docker/dockerfile:1\n{_file(newer)}"
    assert _reason(named) is None
    assert _reason(f"# syntax=docker/dockerfile:1\n{_file('EXPOSE abc')}") is not None


def test_go_duration_reads_what_go_reads() -> None:
    assert go_duration("1m30.5s") == (90_500_000_000, None)
    assert go_duration("-1.5h") == (-5_400_000_000_000, None)
    assert go_duration("1h0.000000001s")[0] == 3_600_000_000_001
    assert go_duration("-0") == (0, None)
    assert go_duration(".") == (0, 'time: invalid duration "."')
    assert go_duration('1"s') == (0, 'time: unknown unit "\\"s" in duration "1\\"s"')


@pytest.fixture(scope="module")
def buildkit_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """BuildKit's error (or "") for each case and each value it is not judged on."""
    texts = [_file(i) for i, _ in CASES] + [_file(i) for i in NOT_JUDGED]
    return dict(zip(texts, _lint(tmp_path_factory.mktemp("lint"), texts), strict=True))


def _lint(folder: Path, texts: list[str]) -> list[str]:
    """dockfix-buildkit-lint over all texts in one call (it takes several files)."""
    assert BUILDKIT_LINT is not None
    names = []
    for n, text in enumerate(texts):
        (folder / f"{n}.Dockerfile").write_text(text)
        names.append(f"{n}.Dockerfile")
    out = subprocess.run(
        [BUILDKIT_LINT, *names], cwd=folder, capture_output=True, text=True, check=True
    ).stdout
    return [str(result.get("error") or "") for result in json.loads(out)]


@needs_buildkit
@pytest.mark.parametrize(("instructions", "reason"), CASES)
def test_buildkit_agrees(
    buildkit_errors: dict[str, str], instructions: str, reason: str | None
) -> None:
    theirs = buildkit_errors[_file(instructions)]
    if reason is None:
        assert theirs == ""
    else:
        assert reason in theirs


@needs_buildkit
@pytest.mark.parametrize("instructions", NOT_JUDGED)
def test_buildkit_here_rejects_what_dockfix_leaves_alone(
    buildkit_errors: dict[str, str], instructions: str
) -> None:
    assert buildkit_errors[_file(instructions)] != ""


# --- generated values, against BuildKit ------------------------------------------------------


def _pick(rng: random.Random, pool: list[str], most: int = 3) -> str:
    return "".join(rng.choice(pool) for _ in range(rng.randint(1, most)))


def _duration(rng: random.Random) -> str:
    parts = ["0", "1", "30", "1.5", ".5", "1.", "999", "-", "+", "s", "ms", "us", "ns", "m", "h"]
    return _pick(rng, [*parts, "x", "d", "S", "."], 4)


def _port(rng: random.Random) -> str:
    parts = ["80", "0", "65535", "65536", "-", "/", "tcp", "udp", "sctp", "Tcp", "x", "+", "9"]
    return _pick(rng, parts, 4)


def _signal(rng: random.Random) -> str:
    names = ["SIG", "TERM", "KILL", "RTMIN", "RTMAX", "+3", "-14", "+16", "-15", "USR1", "FOO"]
    return _pick(rng, [*names, "9", "0", "-", "x", "sig", "EMT", "POLL"], 3)


def _mount(rng: random.Random) -> str:
    # (no bind mount that writes: the checker needs a build to answer for one)
    kind = rng.choice(["cache", "tmpfs", "secret", "ssh", "bogus", "Cache"])
    keys = {
        "target": ["/x", "", ".", "/", "rel"],
        "id": ["a", ""],
        "sharing": ["locked", "shared", "PRIVATE", "bogus", ""],
        "mode": ["0755", "755", "999", "abc", "", "077777"],
        "uid": ["0", "-1", "abc", "4294967296", "+1"],
        "ro": ["true", "maybe", "0", "False", ""],
        "required": ["true", "no", ""],
        "size": ["10m", "1g", "abc", "-1", "100"],
        "env": ["X"],
        "foo": ["bar"],
    }
    fields = [f"type={kind}"]
    for key in rng.sample(sorted(keys), rng.randint(0, 4)):
        fields.append(f"{key}={rng.choice(keys[key])}" if rng.random() < 0.9 else key)
    return ",".join(fields)


def _chmod(rng: random.Random) -> str:
    return _pick(rng, ["0", "7", "55", "8", "u", "g", "o", "a", "+", "-", "=", "x", "rw", ","], 4)


def _checksum(rng: random.Random) -> str:
    hexes = ["", "abc", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]
    algorithm = rng.choice(["sha256", "sha384", "sha512", "md5", "SHA256", "", "sha-256"])
    digest = rng.choice(hexes) * rng.choice([1, 2])
    source = rng.choice(["https://example.com/a.tgz", "app.tgz", "https://e.com/a https://e.com/b"])
    return f"ADD --checksum={algorithm}{rng.choice([':', ''])}{digest} {source} /y/"


def _generated(rng: random.Random) -> str:
    which = rng.randrange(7)
    if which == 6:
        return _checksum(rng)
    if which == 0:
        flag = rng.choice(["interval", "timeout", "start-period", "start-interval", "retries"])
        value = _duration(rng) if flag != "retries" else _pick(rng, ["1", "-", "+", "0", "x"])
        return f"HEALTHCHECK --{flag}={value} CMD true"
    if which == 1:
        return f"EXPOSE {_port(rng)}"
    if which == 2:
        return f"STOPSIGNAL {_signal(rng)}"
    if which == 3:
        return f"RUN --mount={_mount(rng)} true"
    if which == 4:
        return f"COPY --chmod={_chmod(rng)} a b"
    flag = rng.choice(["link", "network", "bogus", "link="])
    value = rng.choice(["", "=true", "=none", "=host", "=xyz", "=FALSE", "=1"])
    return f"{'COPY' if flag != 'network' else 'RUN'} --{flag}{value} a b"


@needs_buildkit
def test_generated_values_are_judged_as_buildkit_judges_them(tmp_path: Path) -> None:
    rng = random.Random(20261208)
    cases = sorted({_generated(rng) for _ in range(3000)})
    # (with a WORKDIR, a mount's relative or missing target is no longer the root)
    texts = [_file(f"WORKDIR /w\n{c}") for c in cases]
    disagreements = []
    for instructions, text, theirs in zip(cases, texts, _lint(tmp_path, texts), strict=True):
        mine = _reason(text)
        if (mine is None) != (theirs == "") or (mine is not None and mine not in theirs):
            disagreements.append((instructions, mine, theirs))
    assert disagreements == []
