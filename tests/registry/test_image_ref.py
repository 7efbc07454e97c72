"""Image reference parsing and normalisation (distribution/reference semantics)."""

from __future__ import annotations

import pytest

from dockfix.registry.image_ref import ImageRef, VariableReferenceError, has_variables

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64
HUB = "registry-1.docker.io"

# text, domain as written, registry (API host), repository, tag, digest, canonical
VALID = [
    ("python", None, HUB, "library/python", None, None, "docker.io/library/python"),
    (
        "python:3.12-slim",
        None,
        HUB,
        "library/python",
        "3.12-slim",
        None,
        "docker.io/library/python:3.12-slim",
    ),
    ("library/python", None, HUB, "library/python", None, None, "docker.io/library/python"),
    ("bitnami/redis:7", None, HUB, "bitnami/redis", "7", None, "docker.io/bitnami/redis:7"),
    (
        "docker.io/library/python:3",
        "docker.io",
        HUB,
        "library/python",
        "3",
        None,
        "docker.io/library/python:3",
    ),
    (
        "docker.io/python",
        "docker.io",
        HUB,
        "library/python",
        None,
        None,
        "docker.io/library/python",
    ),
    (
        "index.docker.io/library/golang:1.20",
        "index.docker.io",
        HUB,
        "library/golang",
        "1.20",
        None,
        "docker.io/library/golang:1.20",
    ),
    (
        "index.docker.io/golang",
        "index.docker.io",
        HUB,
        "library/golang",
        None,
        None,
        "docker.io/library/golang",
    ),
    # registry-1.docker.io is an ordinary domain to Docker: no library/ added, not rewritten.
    (
        "registry-1.docker.io/library/python:3",
        "registry-1.docker.io",
        HUB,
        "library/python",
        "3",
        None,
        "registry-1.docker.io/library/python:3",
    ),
    ("ghcr.io/org/img:tag", "ghcr.io", "ghcr.io", "org/img", "tag", None, "ghcr.io/org/img:tag"),
    (
        "ghcr.io/org/team/sub/img",
        "ghcr.io",
        "ghcr.io",
        "org/team/sub/img",
        None,
        None,
        "ghcr.io/org/team/sub/img",
    ),
    ("localhost:5000/x", "localhost:5000", "localhost:5000", "x", None, None, "localhost:5000/x"),
    ("localhost/x:1", "localhost", "localhost", "x", "1", None, "localhost/x:1"),
    (
        f"myreg:5000/a/b:tag@{D1}",
        "myreg:5000",
        "myreg:5000",
        "a/b",
        "tag",
        D1,
        f"myreg:5000/a/b:tag@{D1}",
    ),
    (f"python@{D1}", None, HUB, "library/python", None, D1, f"docker.io/library/python@{D1}"),
    (f"ghcr.io/o/i@{D2}", "ghcr.io", "ghcr.io", "o/i", None, D2, f"ghcr.io/o/i@{D2}"),
    (
        "127.0.0.1:5000/a_b/c-d.e:v1.2_x",
        "127.0.0.1:5000",
        "127.0.0.1:5000",
        "a_b/c-d.e",
        "v1.2_x",
        None,
        "127.0.0.1:5000/a_b/c-d.e:v1.2_x",
    ),
    ("[::1]:5000/img:1", "[::1]:5000", "[::1]:5000", "img", "1", None, "[::1]:5000/img:1"),
    # An upper-case first component is a domain (current Docker); the API host is lower-cased.
    (
        "Example.COM/team/app",
        "Example.COM",
        "example.com",
        "team/app",
        None,
        None,
        "Example.COM/team/app",
    ),
    (
        "foo__bar/baz---qux",
        None,
        HUB,
        "foo__bar/baz---qux",
        None,
        None,
        "docker.io/foo__bar/baz---qux",
    ),
    # "localhost:5000" alone is Docker Hub's library/localhost with tag 5000, as in Docker.
    (
        "localhost:5000",
        None,
        HUB,
        "library/localhost",
        "5000",
        None,
        "docker.io/library/localhost:5000",
    ),
]


@pytest.mark.parametrize(
    ("text", "domain", "registry", "repository", "tag", "digest", "canonical"), VALID
)
def test_parse_valid(
    text: str,
    domain: str | None,
    registry: str,
    repository: str,
    tag: str | None,
    digest: str | None,
    canonical: str,
) -> None:
    ref = ImageRef.parse(text)
    assert ref.original == text
    assert ref.domain == domain
    assert ref.registry == registry
    assert ref.repository == repository
    assert ref.tag == tag
    assert ref.digest == digest
    assert ref.canonical == canonical
    assert str(ref) == text


INVALID = [
    ("", "empty"),
    ("Python", "lowercase"),
    ("library/Python:3", "lowercase"),
    ("python:", "invalid reference format"),
    (":3", "invalid reference format"),
    ("python@sha256:abc", "digest"),
    (f"python@md5:{'a' * 32}", "unsupported digest algorithm"),
    ("python@sha256:" + "A" * 64, "lower-case hex"),
    ("a" * 64, "64-byte hexadecimal"),
    ("x y", "whitespace"),
    ("http://ghcr.io/x", "invalid reference format"),
    ("ghcr.io/x/", "invalid reference format"),
    ("ghcr.io//x", "invalid reference format"),
    ("-x", "invalid reference format"),
    ("x:" + "t" * 129, "invalid reference format"),
    ("x:-tag", "invalid reference format"),
    (f"x@{D1}@{D2}", "more than one"),
    ("host:port/x", "invalid reference format"),
    ("ghcr.io/" + "a" * 250, "255"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="invalid") as excinfo:
        ImageRef.parse(text)
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    "text", ["$BASE", "${BASE_IMAGE}:3", "python:${PY_VERSION:-3.12}", "ghcr.io/$ORG/app"]
)
def test_variables_are_detected(text: str) -> None:
    assert has_variables(text)
    assert ImageRef.has_variables(text)
    with pytest.raises(VariableReferenceError, match="build variable"):
        ImageRef.parse(text)
    # VariableReferenceError is a ValueError, so callers catching ValueError see it too.
    assert issubclass(VariableReferenceError, ValueError)


def test_no_variables() -> None:
    assert not has_variables("python:3.12")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("golang:1.20", f"golang:1.20@{D2}"),
        ("golang", f"golang@{D2}"),
        ("docker.io/library/golang:1.20", f"docker.io/library/golang:1.20@{D2}"),
        ("index.docker.io/golang:1.20", f"index.docker.io/golang:1.20@{D2}"),
        (f"ghcr.io/o/i:1@{D1}", f"ghcr.io/o/i:1@{D2}"),
        (f"ghcr.io/o/i@{D1}", f"ghcr.io/o/i@{D2}"),
        ("Example.COM/team/app:v1", f"Example.COM/team/app:v1@{D2}"),
    ],
)
def test_with_digest_keeps_spelling(text: str, expected: str) -> None:
    ref = ImageRef.parse(text)
    rendered = ref.with_digest(D2)
    assert rendered == expected
    assert "index.docker.io/library" not in rendered or text.startswith("index.docker.io/library")
    assert ImageRef.parse(rendered).digest == D2


@pytest.mark.parametrize(
    ("text", "tag", "expected"),
    [
        ("python", "3.12", "python:3.12"),
        ("python:latest", "3.13.1", "python:3.13.1"),
        (f"docker.io/library/python:3@{D1}", "3.12", "docker.io/library/python:3.12"),
        ("localhost:5000/x:old", "new", "localhost:5000/x:new"),
    ],
)
def test_with_tag_keeps_spelling(text: str, tag: str, expected: str) -> None:
    assert ImageRef.parse(text).with_tag(tag) == expected


def test_with_tag_and_digest() -> None:
    ref = ImageRef.parse("python:latest")
    assert ref.with_tag("3.13", digest=D1) == f"python:3.13@{D1}"
    assert ref.without_digest() == "python:latest"
    assert ImageRef.parse(f"python:3@{D1}").without_digest() == "python:3"


def test_render_rejects_bad_values() -> None:
    ref = ImageRef.parse("python")
    with pytest.raises(ValueError, match="invalid digest"):
        ref.with_digest("sha256:1234")
    with pytest.raises(ValueError, match="invalid tag"):
        ref.with_tag("-bad")


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (
            [
                "python",
                "python:latest",
                "library/python:latest",
                "docker.io/python",
                "docker.io/library/python:latest",
                "index.docker.io/library/python",
                "registry-1.docker.io/library/python:latest",
            ],
            "registry-1.docker.io/library/python:latest",
        ),
        (["ghcr.io/o/i:1", f"ghcr.io/o/i:1@{D1}"], "ghcr.io/o/i:1"),
        ([f"ghcr.io/o/i@{D1}"], f"ghcr.io/o/i@{D1}"),
    ],
)
def test_lookup_key_is_shared_by_spellings(spellings: list[str], key: str) -> None:
    assert {ImageRef.parse(s).key for s in spellings} == {key}


def test_manifest_reference() -> None:
    assert ImageRef.parse("python").manifest_reference == "latest"
    assert ImageRef.parse("python:3").manifest_reference == "3"
    assert ImageRef.parse(f"python@{D1}").manifest_reference == D1
    # tag and digest: the tag is what gets (re-)resolved
    assert ImageRef.parse(f"python:3@{D1}").manifest_reference == "3"


def test_refs_are_hashable_and_spelling_sensitive() -> None:
    a, b = ImageRef.parse("python:3"), ImageRef.parse("docker.io/library/python:3")
    assert a.key == b.key
    assert a != b
    assert len({a, b, ImageRef.parse("python:3")}) == 2
    assert a.is_docker_hub and b.is_docker_hub
    assert not ImageRef.parse("ghcr.io/x/y").is_docker_hub
