"""DF515 secret-in-arg-env / DF526 secret-written: secret-looking ARG/ENV names; an ARG only RUNs
read becomes a secret mount, a value written in the file is an error."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.engine import fix_document
from dockfix.core.fixer import Applicability, Finding, Severity
from dockfix.fixers._secret_names import looks_secret
from dockfix.fixers.secret_in_arg_env import SecretInArgEnv
from dockfix.fixers.secret_written import SecretWritten
from dockfix.registry.image_lookup import ImageLookups, ImageQuery, LookupAnswer
from dockfix.registry.image_ref import ImageRef
from dockfix.semantics.context import FixContext
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def findings(src: str, codes: tuple[str, ...] = ("DF515", "DF526")) -> list[tuple[str, int, str]]:
    """What the rules report on a file they must leave alone (no fix, or none that applies)."""
    out, left = dockfix.fix(src, select=list(codes), unsafe_fixes=True, offline=True)
    assert out == src
    assert all(f.applicability is Applicability.DISPLAY_ONLY for f in left)
    return [(f.code, f.line, f.message + " / " + f.reason) for f in left]


def fix(src: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(src, select=["DF515"], unsafe_fixes=True, offline=True)


def test_arg_and_env_reported_and_a_written_value_is_df526s_error() -> None:
    src = (
        'FROM node:20-alpine\nARG NPM_TOKEN\nENV NEXT_PRIVATE_ENCRYPTION_KEY="CAFEBABE"\n'
        "ENV DATABASE_PASSWORD changeme\nENV API_TOKEN=$NPM_TOKEN LOG_LEVEL=info\n"
    )
    got = findings(src)
    assert [(code, line) for code, line, _ in got] == [
        ("DF515", 2),
        ("DF526", 3),
        ("DF526", 4),
        ("DF515", 5),
    ]
    assert "image history" in got[0][2] and "build command must change" in got[0][2]
    assert "written in the Dockerfile" in got[1][2] and "rotate it" in got[1][2]
    assert "written in the Dockerfile" in got[2][2]
    assert "written" not in got[3][2]  # a variable reference is not a written secret
    assert SecretWritten.severity is Severity.ERROR
    # hadolint's DL3064 names the same instructions; a `# hadolint ignore` for it applies
    assert hadolint_counts(src)["DL3064"] >= 3


NPM = (
    "# syntax=docker/dockerfile:1\nFROM node:20-alpine AS build\nWORKDIR /app\nARG NPM_TOKEN\n"
    "COPY package.json package-lock.json ./\n"
    'RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc\n'
    "COPY . .\nRUN npm run build \\\n && npm prune --omit=dev\n"
    "FROM nginx:1.27-alpine\nCOPY --from=build /app/dist /usr/share/nginx/html\n"
)


def test_an_arg_only_runs_read_becomes_a_secret_mount_on_each_run_after_it() -> None:
    out, left = fix(NPM)
    flag = "--mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN"
    assert out == (
        "# syntax=docker/dockerfile:1\nFROM node:20-alpine AS build\nWORKDIR /app\n"
        "COPY package.json package-lock.json ./\n"
        f'RUN {flag} echo "//registry.npmjs.org/:_authToken=${{NPM_TOKEN}}" > .npmrc && npm ci '
        "&& rm .npmrc\nCOPY . .\n"
        f"RUN {flag} \\\n    npm run build \\\n && npm prune --omit=dev\n"
        "FROM nginx:1.27-alpine\nCOPY --from=build /app/dist /usr/share/nginx/html\n"
    )
    assert left == []
    out2, found = dockfix.fix(NPM, select=["DF515"], offline=True)
    (finding,) = found
    assert out2 == NPM and finding.fix is not None
    assert finding.applicability is Applicability.UNSAFE
    assert "--secret id=NPM_TOKEN,env=NPM_TOKEN" in finding.fix.description
    assert hadolint_counts(NPM)["DL3064"] == 1 and hadolint_counts(out)["DL3064"] == 0
    assert fix(out) == (out, [])


def _fix_with_engine(
    text: str, engine: tuple[int, ...], digest: str | None
) -> tuple[str, list[Finding]]:
    """DF515 with that `min-docker-engine`; ``digest``: what the run's lookup of
    docker/dockerfile:1 answered (None: not asked)."""
    query = ImageQuery.digest_of(ImageRef.parse("docker/dockerfile:1"))
    answers = {query.key: LookupAnswer(digest, OCI_INDEX)} if digest else {}
    ctx = FixContext(min_docker_engine=engine, services={"image_lookups": ImageLookups(answers)})
    out = fix_document(text, [SecretInArgEnv()], ctx, unsafe=True)
    return out.fixed, out.findings


def test_the_syntax_directive_is_added_pinned_where_the_engine_needs_it() -> None:
    src = NPM.split("\n", 1)[1]
    assert "syntax=" not in src
    (reason,) = [r for _, _, r in findings(src, ("DF515",))]
    assert "`# syntax=docker/dockerfile:1`, and its digest is not known (offline" in reason
    digest = "sha256:" + "5e" * 32
    out, left = _fix_with_engine(src, (23, 0), digest)
    assert left == [] and out.startswith(f"# syntax=docker/dockerfile:1@{digest}\nFROM node")
    assert out.split("\n", 1)[1] == fix(NPM)[0].split("\n", 1)[1]
    # an engine whose built-in frontend knows `env=` needs no directive
    out, left = _fix_with_engine(src, (28, 0), None)
    assert left == [] and out.startswith("FROM node") and "env=NPM_TOKEN" in out
    assert SecretInArgEnv().wants_lookups(FixContext(min_docker_engine=(28, 0))) is False


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        (
            "# syntax=docker/dockerfile:1.4\nFROM node:20\nARG NPM_TOKEN\nRUN npm ci\n",
            "predates `env=` in secret mounts (docker/dockerfile:1.10)",
        ),
        (
            "# syntax=docker/dockerfile:1\nFROM node:20\nARG NPM_TOKEN\nLABEL build.token=$NPM_TOKEN\n",
            "LABEL on line 4 reads it",
        ),
        (
            "# syntax=docker/dockerfile:1\nFROM node:20\nARG NPM_TOKEN\n"
            "RUN --mount=type=cache,id=${NPM_TOKEN},target=/root/.npm npm ci\n",
            "RUN on line 4 reads it",
        ),
        (
            "# syntax=docker/dockerfile:1\nFROM node:20\nARG NPM_TOKEN\nONBUILD RUN echo $NPM_TOKEN\n",
            "ONBUILD RUN on line 4 reads it",
        ),
        (
            "# syntax=docker/dockerfile:1\nFROM node:20\nARG NPM_TOKEN NODE_ENV\nRUN npm ci\n",
            "declared with other names",
        ),
        (
            "# syntax=docker/dockerfile:1\nARG GH_TOKEN\nFROM golang:1.22\nARG GH_TOKEN\nRUN go build\n",
            "also declared before the first FROM",
        ),
        (
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nARG NUGET_TOKEN\nRUN nuget\n",
            "Windows",
        ),
    ],
)
def test_display_only_where_something_else_reads_it(src: str, reason: str) -> None:
    got = [r for code, line, r in findings(src, ("DF515",)) if "ARG keeps" in r]
    assert any(reason in r for r in got), got


def test_the_stages_built_from_it_see_it_too() -> None:
    # BuildKit hands a stage's build arguments to the stages built FROM it
    src = (
        "# syntax=docker/dockerfile:1\nFROM golang:1.22 AS deps\nARG GOPROXY_TOKEN\n"
        "RUN go mod download\nFROM deps AS build\nRUN go build ./...\n"
        "FROM deps AS labelled\nLABEL token=${GOPROXY_TOKEN}\n"
    )
    (got,) = findings(src, ("DF515",))
    assert "LABEL on line 8 reads it" in got[2]
    src = src.rsplit("FROM deps AS labelled", 1)[0]
    out, left = fix(src)
    flag = "--mount=type=secret,id=GOPROXY_TOKEN,env=GOPROXY_TOKEN"
    assert left == [] and out == (
        "# syntax=docker/dockerfile:1\nFROM golang:1.22 AS deps\n"
        f"RUN {flag} go mod download\nFROM deps AS build\nRUN {flag} go build ./...\n"
    )


def test_an_env_is_never_rewritten() -> None:
    src = "# syntax=docker/dockerfile:1\nFROM node:20\nENV API_TOKEN=$NPM_TOKEN\nRUN npm ci\n"
    (got,) = findings(src, ("DF515",))
    assert "also set when the container runs" in got[2]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("NPM_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("github_pat", True),
        ("MY_APIKEY", True),
        ("PUBLIC_KEY", False),
        ("KEYBOARD_LAYOUT", False),
        ("AUTHOR", False),
        ("NODE_ENV", False),
    ],
)
def test_names(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret
    assert bool(findings(f"FROM alpine:3.20\nARG {name}\n")) is secret


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        # the official images' convention: the secret is in the file the value names
        ("ENV POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password", "/run/secrets"),
        ("ENV SSH_AUTH_SOCK=/ssh-agent", "/ssh-agent"),
        ("ARG TOKEN_URL=https://auth.example.com/oauth/token", "https://auth.example.com"),
        ("ENV AUTH_ENABLED=true", "true"),
        # python's official image: the release manager's public key fingerprint
        ("ENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305", "7169605F"),
        # rabbitmq's official image: OpenSSL's release keys, written with `0x`
        (
            'ENV OPENSSL_PGP_KEY_IDS="0x8657ABB260F056B1E5190839D9C4D26D0E604491'
            ' 0xB7C1C14360F353A36862E4D5231C84CDDCC69C45"',
            "0x8657ABB2",
        ),
        # a fingerprint as gpg prints it, in groups of four
        ("ENV GPG_KEY='EB4C 1BFD 4F04 2F6D DDCC  EC91 7721 F63B D38B 4796'", "EB4C 1BFD"),
    ],
)
def test_a_written_path_url_switch_or_key_fingerprint_is_no_secret_to_rotate(
    line: str, shown: str
) -> None:
    got = findings(f"FROM python:3.12-slim\n{line}\n")
    # still BuildKit's SecretsUsedInArgOrEnv by the name (DF515, a warning), not DF526's error
    assert [code for code, _, _ in got] == ["DF515"]
    assert "not the secret itself" in got[0][2] and shown in got[0][2]


@pytest.mark.parametrize(
    "line",
    [
        "ENV DB_PASSWORD=changeme",
        "ENV DATABASE_URL_PASSWORD=/x8Kf+q2==",  # base64 may start with a slash
        "ARG TOKEN_URL=https://user:s3cr3t@auth.example.com/token",  # credentials in the URL
        "ENV GITHUB_TOKEN=0123456789abcdef0123456789abcdef01234567",  # hex, not a GPG name
        "ENV API_KEY=1234",
    ],
)
def test_a_written_value_that_may_be_the_secret_stays_df526s_error(line: str) -> None:
    got = findings(f"FROM python:3.12-slim\n{line}\n")
    assert [code for code, _, _ in got] == ["DF526"]


def test_the_ignore_pragma_of_the_removed_arg_goes_with_it() -> None:
    # left in place, the pragma would silence DL3045 on the COPY below it
    src = NPM.replace("ARG NPM_TOKEN\n", "# hadolint ignore=DL3045\nARG NPM_TOKEN\n")
    out, _ = fix(src)
    assert "ignore" not in out
    assert out == fix(NPM)[0]
