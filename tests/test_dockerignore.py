"""`.dockerignore` reading and matching against upstream's own tables (moby/patternmatcher).

The tables are the cases of ``patternmatcher_test.go`` (``TestMatches``, ``TestMatch``) and
``ignorefile_test.go`` (``TestReadAll``), restated as data here.
"""

from __future__ import annotations

import posixpath
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockfix.semantics.dockerignore import (
    DockerIgnore,
    Pattern,
    go_clean,
    go_filepath_match,
    read_patterns,
)

# How a single pattern relates to a path: it matches the path itself ("exact"), it matches
# only a parent directory ("via_parent"), or it does not match at all ("no").
EXACT, VIA_PARENT, NO = "exact", "via_parent", "no"

SINGLE_PATTERN_CASES: list[tuple[str, str, str]] = [
    # pattern, path, relation
    ("**", "file", EXACT),
    ("**", "file/", EXACT),
    ("**/", "file", EXACT),
    ("**/", "file/", EXACT),
    ("**", "/", EXACT),
    ("**/", "/", EXACT),
    ("**", "dir/file", EXACT),
    ("**/", "dir/file", EXACT),
    ("**", "dir/file/", EXACT),
    ("**/", "dir/file/", EXACT),
    ("**/**", "dir/file", EXACT),
    ("**/**", "dir/file/", EXACT),
    ("dir/**", "dir/file", EXACT),
    ("dir/**", "dir/file/", EXACT),
    ("dir/**", "dir/dir2/file", EXACT),
    ("dir/**", "dir/dir2/file/", EXACT),
    ("**/dir", "dir", EXACT),
    ("**/dir", "dir/file", VIA_PARENT),
    ("**/dir2/*", "dir/dir2/file", EXACT),
    ("**/dir2/*", "dir/dir2/file/", VIA_PARENT),
    ("**/dir2/**", "dir/dir2/dir3/file", EXACT),
    ("**/dir2/**", "dir/dir2/dir3/file/", EXACT),
    ("**file", "file", EXACT),
    ("**file", "dir/file", EXACT),
    ("**/file", "dir/file", EXACT),
    ("**file", "dir/dir/file", EXACT),
    ("**/file", "dir/dir/file", EXACT),
    ("**/file*", "dir/dir/file", EXACT),
    ("**/file*", "dir/dir/file.txt", EXACT),
    ("**/file*txt", "dir/dir/file.txt", EXACT),
    ("**/file*.txt", "dir/dir/file.txt", EXACT),
    ("**/file*.txt*", "dir/dir/file.txt", EXACT),
    ("**/**/*.txt", "dir/dir/file.txt", EXACT),
    ("**/**/*.txt2", "dir/dir/file.txt", NO),
    ("**/*.txt", "file.txt", EXACT),
    ("**/**/*.txt", "file.txt", EXACT),
    ("a**/*.txt", "a/file.txt", EXACT),
    ("a**/*.txt", "a/dir/file.txt", EXACT),
    ("a**/*.txt", "a/dir/dir/file.txt", EXACT),
    ("a/*.txt", "a/dir/file.txt", NO),
    ("a/*.txt", "a/file.txt", EXACT),
    ("a/*.txt**", "a/file.txt", EXACT),
    ("a[b-d]e", "ae", NO),
    ("a[b-d]e", "ace", EXACT),
    ("a[b-d]e", "aae", NO),
    ("a[^b-d]e", "aze", EXACT),
    (".*", ".foo", EXACT),
    (".*", "foo", NO),
    ("abc.def", "abcdef", NO),
    ("abc.def", "abc.def", EXACT),
    ("abc.def", "abcZdef", NO),
    ("abc?def", "abcZdef", EXACT),
    ("abc?def", "abcdef", NO),
    ("**/foo/bar", "foo/bar", EXACT),
    ("**/foo/bar", "dir/foo/bar", EXACT),
    ("**/foo/bar", "dir/dir2/foo/bar", EXACT),
    ("abc/**", "abc", NO),
    ("abc/**", "abc/def", EXACT),
    ("abc/**", "abc/def/ghi", EXACT),
    ("**/.foo", ".foo", EXACT),
    ("**/.foo", "bar.foo", NO),
    ("a(b)c/def", "a(b)c/def", EXACT),
    ("a(b)c/def", "a(b)c/xyz", NO),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", EXACT),
    (
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        EXACT,
    ),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", EXACT),
    # Unix only upstream: a backslash escapes the next character.
    ("a\\\\", "a\\", EXACT),
    ("a\\*b", "a*b", EXACT),
]

MULTI_PATTERN_CASES: list[tuple[list[str], str, bool]] = [
    # patterns, path, excluded
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (
        ["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        False,
    ),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    # the single-test functions of patternmatcher_test.go
    (["*"], "fileutils.go", True),
    (["*.go"], "fileutils.go", True),
    (["!fileutils.go", "*.go"], "fileutils.go", True),
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs/", "!docs/README.md"], "docs/README.md", False),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    ([], "any/path/there", False),
]


@pytest.mark.parametrize(("pattern", "path", "relation"), SINGLE_PATTERN_CASES)
def test_upstream_single_pattern_table(pattern: str, path: str, relation: str) -> None:
    ign = DockerIgnore.from_patterns([pattern])
    assert ign.matches_exact(path) is (relation == EXACT)
    assert ign.matches_or_parent_matches(path) is (relation != NO)
    assert ign.matches_using_parent_results(path) is (relation != NO)


@pytest.mark.parametrize(("patterns", "path", "excluded"), MULTI_PATTERN_CASES)
def test_upstream_multi_pattern_table(patterns: list[str], path: str, excluded: bool) -> None:
    ign = DockerIgnore.from_patterns(patterns)
    assert ign.matches_or_parent_matches(path) is excluded
    assert ign.matches_using_parent_results(path) is excluded
    assert ign.excludes(path) is excluded


# TestMatch: Go's filepath.Match cases run through patternmatcher (parents count). None = the
# pattern is rejected.
FILEPATH_MATCH_CASES: list[tuple[str, str, bool | None]] = [
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ab/c", True),  # via the parent `ab`
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True),
    ("a???b", "a☺b", False),
    ("a[^a][^a][^a]b", "a☺b", False),
    ("[a-ζ]*", "α", True),
    ("*[a-ζ]", "A", False),
    ("a?b", "a/b", False),
    ("a*b", "a/b", False),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "x", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("[\\-x]", "x", True),
    ("[\\-x]", "-", True),
    ("[\\-x]", "a", False),
    ("[]a]", "]", None),
    ("[-]", "-", None),
    ("[x-]", "x", None),
    ("[x-]", "-", None),
    ("[x-]", "z", None),
    ("[-x]", "x", None),
    ("[-x]", "-", None),
    ("[-x]", "a", None),
    ("\\", "a", None),
    ("[a-b-c]", "a", None),
    ("[", "a", None),
    ("[^", "a", None),
    ("[^bc", "a", None),
    ("a[", "a", None),
    ("a[", "ab", None),
    ("*x", "xxx", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), FILEPATH_MATCH_CASES)
def test_upstream_filepath_match_table(pattern: str, path: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="syntax error in pattern"):
            DockerIgnore.from_patterns([pattern])
        return
    assert DockerIgnore.from_patterns([pattern]).matches_or_parent_matches(path) is expected


def test_go_filepath_match_is_segment_local() -> None:
    # Go's own filepath.Match does not look at parents; patternmatcher adds that.
    assert go_filepath_match("a*", "ab/c") is False
    assert go_filepath_match("a*/b", "abc/b") is True
    with pytest.raises(ValueError):
        go_filepath_match("a[", "x")


def test_read_all_upstream_case() -> None:
    content = (
        "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! "
    )
    assert read_patterns(content) == [
        "test1",
        "test2",
        "a/file/here",
        "lastfile",
        "!inverted/abs/path",
        "!",
        "!",
    ]


@pytest.mark.parametrize(
    ("text", "patterns"),
    [
        ("\ufeffnode_modules\n", ["node_modules"]),  # BOM on line 1
        ("a\n\ufeffb\n", ["a", "\ufeffb"]),  # only line 1 loses a BOM
        ("a\r\nb\r\n", ["a", "b"]),  # CRLF
        (" # not a comment\n", ["# not a comment"]),  # `#` must be the first byte
        ("#comment\n\t\n  x  \n", ["x"]),
        ("./a/../b/\n", ["b"]),
        ("foo//bar/\n", ["foo/bar"]),
        ("../x\n", ["../x"]),
        ("/\n", ["/"]),
        ("!./keep/\n", ["!keep"]),
        ("no-final-newline", ["no-final-newline"]),
        ("a\n\n\n", ["a"]),
    ],
)
def test_reading(text: str, patterns: list[str]) -> None:
    assert read_patterns(text) == patterns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!\n", 'illegal exclusion pattern: "!"'),
        ("! \n", 'illegal exclusion pattern: "!"'),
        ("!/\n", 'illegal exclusion pattern: "!"'),  # `/` stays, then `!/` cleans to `!`
        ("src/[\n", "syntax error in pattern"),
        ("[a-\n", "syntax error in pattern"),
        ("[z-a]\n", "invalid character class range"),  # Go's regexp rejects it when used
        ("[Local-Only]/\n", "invalid character class range"),
        ("a\\yb\n", "invalid escape sequence"),
    ],
)
def test_illegal_patterns_raise(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        DockerIgnore.from_text(text)


def test_api_basics() -> None:
    ign = DockerIgnore.from_text("# deps\nnode_modules\n*.log\n!keep.log\n")
    assert [str(p) for p in ign.patterns] == ["node_modules", "*.log", "!keep.log"]
    assert ign.has_exceptions
    assert not DockerIgnore.from_text(".git\n").has_exceptions
    assert ign.excludes("node_modules")
    assert ign.excludes("node_modules/react/index.js")
    assert ign.excludes("./node_modules/")
    assert ign.excludes("/debug.log")
    assert not ign.excludes("keep.log")
    assert not ign.excludes("src/debug.log")  # `*` stops at `/`
    assert not ign.excludes("node_modules_backup")


@pytest.mark.parametrize("root", ["", ".", "./", "/", "a/.."])
def test_context_root_is_never_excluded(root: str) -> None:
    assert not DockerIgnore.from_text("**\n*\n.\n").excludes(root)


def test_paths_outside_the_context_are_not_excluded() -> None:
    assert not DockerIgnore.from_text("../x\n**\n").excludes("../x")


def test_walk_order_differs_from_last_match_wins() -> None:
    # BuildKit's walk decides `dir` first; `!dir` was not evaluated there (nothing was
    # excluded yet), so it does not re-include `dir/x` afterwards.
    ign = DockerIgnore.from_patterns(["dir/x", "!dir"])
    assert ign.matches_or_parent_matches("dir/x") is False
    assert ign.excludes("dir/x") is True


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("[*]", "]", True),  # upstream puts `[^/]*` inside the class: {[,^,/} then `*`, `]`
        ("[*]", "*", False),
        ("[[:alpha:]]", "x", True),  # RE2's POSIX class
        ("[[:alpha:]]", "1", False),
        ("file\\d", "file1", True),  # `\d` reaches RE2 as a digit class
        ("file\\d", "filed", False),
        ("a^b", "a^b", True),  # no metacharacter: compared as text
        ("a^*", "a^b", False),  # in an expression `^` is an RE2 anchor: never matches
        ("**", "anything/at/all", True),
        ("**foo", "barfoo", True),  # a leading `**` then text is a suffix test
        ("a**b", "ab", True),
        ("a**b", "ax/b", True),
        ("a**b", "axb", False),
    ],
)
def test_upstream_quirks(pattern: str, path: str, matches: bool) -> None:
    assert Pattern.parse(pattern).matches(path) is matches


# --- properties ---------------------------------------------------------------------------

_SEGMENT = st.text(alphabet="abcxyz019_-.", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..")
)
_LITERAL_PATH = st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join)


@given(_LITERAL_PATH, st.lists(_SEGMENT, max_size=3))
def test_literal_pattern_matches_itself_and_children(path: str, child: list[str]) -> None:
    ign = DockerIgnore.from_text(path + "\n")
    assert ign.excludes(path)
    assert ign.excludes("/".join([path, *child]))
    assert ign.excludes("./" + path + "/")


@given(_LITERAL_PATH, _SEGMENT)
def test_literal_pattern_does_not_match_siblings_or_longer_names(path: str, extra: str) -> None:
    ign = DockerIgnore.from_text(path + "\n")
    assert not ign.excludes(path + extra)
    if extra != path.split("/")[0]:
        assert not ign.excludes(extra + "/" + path)  # anchored at the context root
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    if parent:
        assert not ign.excludes(parent)


@given(_LITERAL_PATH, st.lists(_SEGMENT, max_size=3))
def test_exception_after_pattern_reincludes(path: str, child: list[str]) -> None:
    ign = DockerIgnore.from_text(f"{path}\n!{path}\n")
    assert not ign.excludes("/".join([path, *child]))


_NAMES = ["a", "b", "c.log", "d.txt"]


@given(st.lists(st.tuples(st.booleans(), st.sampled_from([*_NAMES, "*.log", "*", "?"]))))
def test_last_matching_pattern_wins_for_top_level_files(rules: list[tuple[bool, str]]) -> None:
    text = "".join(("!" if exc else "") + pat + "\n" for exc, pat in rules)
    ign = DockerIgnore.from_text(text)
    for name in _NAMES:
        expected = False
        for exc, pat in rules:
            if go_filepath_match(pat, name):
                expected = not exc
        assert ign.excludes(name) is expected


_GLOB_TOKEN = st.sampled_from(["a", "b", "/", "*", "?", "[ab]", "[^a]", "\\*", "."])


@settings(max_examples=300)
@given(
    st.lists(_GLOB_TOKEN, min_size=1, max_size=6).map("".join),
    st.text(alphabet="ab/*.", max_size=6),
)
def test_single_star_patterns_agree_with_go_filepath_match(pattern: str, name: str) -> None:
    # Without `**`, upstream's regular expression means what filepath.Match means; the two
    # are implemented independently here, so this cross-checks both.
    if "**" in pattern or go_clean(pattern) != pattern:
        return
    if "[" in pattern and "/" in name:
        # A class may match `/`; Go's Match then misses some matches the expression finds
        # (it never moves an earlier chunk back), so the two only agree within a segment.
        return
    assert Pattern.parse(pattern).matches(name) is go_filepath_match(pattern, name)


@given(st.text(alphabet="ab./", max_size=12))
def test_go_clean_agrees_with_posix_normpath(path: str) -> None:
    cleaned = go_clean(path)
    assert go_clean(cleaned) == cleaned
    if not path.startswith("//"):  # POSIX keeps a leading `//`, Go does not
        assert cleaned == posixpath.normpath(path) if path else cleaned == "."


@given(st.lists(st.sampled_from(["# c", "", "  ", "x", "!x", "y/", "\r"]), max_size=8))
def test_comments_and_blank_lines_never_become_patterns(lines: list[str]) -> None:
    patterns = read_patterns("\n".join(lines))
    assert all(p and not p.startswith("#") for p in patterns)
    assert len(patterns) == sum(1 for ln in lines if ln.strip() and not ln.startswith("#"))
