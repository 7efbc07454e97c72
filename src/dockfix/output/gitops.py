"""The bot path: one git commit per fixer code, on a branch, with real git.

``dockfix fix --write --commit`` applies the selected fixers one code at a time, in code
order, and commits what each changed as ``dockfix: <CODE> <name> (<n> files)`` with the files
listed in the body. Only files dockfix wrote are committed, and never a file git does not track
or one with uncommitted changes (it would carry the user's own edits). A work tree with
uncommitted changes to tracked files is refused unless ``--allow-dirty`` is given.

Nothing is lost: an existing ``--branch`` is never moved unless ``--force-branch`` says so, and
a detached HEAD needs ``--branch`` (commits on it would be left unreachable). Two fixers can
change neighbouring or the same lines, so a commit does not always revert on its own:
:func:`note_revert_dependencies` checks each commit's revert with ``git merge-tree`` and names
the commits it must be reverted with, in the messages and the PR body.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockfix.core.engine import FileReport


class GitError(RuntimeError):
    pass


@dataclass
class CodeCommit:
    code: str
    name: str
    files: list[str] = field(default_factory=list)
    sha: str = ""
    # Later commits (by code) that change lines this commit's revert would conflict with
    # ([]: it reverts on its own); None: not checked (git older than 2.38 has no
    # `merge-tree --write-tree`).
    revert_with: list[str] | None = None


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def work_tree_root(start: Path) -> Path:
    try:
        return Path(git("rev-parse", "--show-toplevel", cwd=start).strip())
    except (GitError, FileNotFoundError) as exc:
        raise GitError(f"--commit needs a git work tree ({exc})") from None


def dirty_files(root: Path) -> list[str]:
    """Tracked files with staged or unstaged changes (untracked files do not count)."""
    fields = git("status", "--porcelain", "-z", "--untracked-files=no", cwd=root).split("\0")
    out = []
    while fields and fields[0]:
        entry = fields.pop(0)
        out.append(entry[3:])  # unquoted with -z: a name with spaces is matched as it is
        if entry[0] in "RC":
            out.append(fields.pop(0))  # a rename's or copy's source
    return out


def tracked_files(root: Path) -> set[str]:
    """Every path git tracks, relative to ``root``."""
    return set(git("ls-files", "-z", cwd=root).split("\0")) - {""}


_IN_PROGRESS = {
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or `git am`",
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}


def operation_in_progress(root: Path) -> str:
    """The git operation the work tree is in the middle of ("" when none): dockfix's commits
    would land inside it (a stopped rebase would then carry or drop them)."""
    names = list(_IN_PROGRESS)
    args = [arg for n in names for arg in ("--git-path", n)]
    paths = git("rev-parse", *args, cwd=root).splitlines()
    for name, path in zip(names, paths, strict=True):
        if (root / path).exists():
            return _IN_PROGRESS[name]
    return ""


def current_branch(root: Path) -> str | None:
    """The checked-out branch; None on a detached HEAD."""
    try:
        return git("symbolic-ref", "-q", "--short", "HEAD", cwd=root).strip()
    except GitError:
        return None


def start_branch(root: Path, name: str, force: bool) -> str:
    """Check out a new branch ``name`` at HEAD; returns what was replaced ("" when nothing).

    An existing branch is left where it is (a ``GitError``) unless ``force``: its commits
    would survive only in the reflog. Being on it already moves nothing (the commits go on
    top, as without ``--branch``)."""
    git("check-ref-format", "--branch", name, cwd=root)
    if current_branch(root) == name:
        return ""
    try:
        old = git("rev-parse", "-q", "--verify", f"refs/heads/{name}^{{commit}}", cwd=root).strip()
    except GitError:
        old = ""
    if old and not force:
        raise GitError(
            f"branch `{name}` exists (at {describe(root, old)}); pass --force-branch to replace it"
        )
    if not old:
        git("checkout", "-q", "-b", name, cwd=root)
        return ""
    was = describe(root, old)
    gone = int(git("rev-list", "--count", f"HEAD..{old}", cwd=root))
    git("checkout", "-q", "-B", name, cwd=root)
    if not gone:
        return f"replaced branch `{name}` (was {was}, already part of HEAD)"
    return (
        f"replaced branch `{name}` (was {was}; "
        f"{'its commit' if gone == 1 else f'its {gone} commits'} not on HEAD "
        f"{'stays' if gone == 1 else 'stay'} in the reflog: "
        f"`git branch {name}-old {was.split()[0]}`)"
    )


def describe(root: Path, sha: str) -> str:
    """``abc1234 "subject"``: a commit as a one-line message names it."""
    short, _, subject = git("log", "-1", "--format=%h %s", sha, cwd=root).strip().partition(" ")
    return f'{short} "{subject}"'


class LeftAlone:
    """The files ``--commit`` must leave alone: untracked ones (a commit would take them into
    the branch, and a checkout elsewhere then deletes them) and ones with uncommitted changes
    (a commit would carry the user's edits)."""

    def __init__(self, root: Path, tracked: set[str], dirty: set[str]) -> None:
        self.root = root.resolve()
        self.tracked = tracked
        self.dirty = dirty
        self.notes: list[str] = []
        self._noted: set[str] = set()

    def _why(self, path: Path) -> str:
        rel = os.path.relpath(path.resolve(), self.root).replace(os.sep, "/")
        if rel in self.dirty:
            return "it has uncommitted changes"
        if rel not in self.tracked:
            return "git does not track it"
        return ""

    def filter(self, reports: list[FileReport]) -> list[FileReport]:
        """The reports whose changes may be written and committed (files left alone are
        noted once each)."""
        from dockfix.run.runner import display_path

        out = []
        for rep in reports:
            if rep.outcome is None or not rep.outcome.changed:
                out.append(rep)
                continue
            why = "" if rep.from_stdin else self._why(Path(rep.path))
            if not why:
                changes = []
                for ch in rep.outcome.file_changes:
                    ch_why = self._why(ch.path) if ch.original is not None else ""
                    if ch_why:
                        self._note(display_path(ch.path), ch_why)
                    else:
                        changes.append(ch)
                rep.outcome.file_changes = changes
                out.append(rep)
                continue
            self._note(rep.path, why)
        return out

    def _note(self, path: str, why: str) -> None:
        if path not in self._noted:
            self._noted.add(path)
            self.notes.append(f"skipped {path}: {why}; --commit leaves it as it is")


def _identity_env(root: Path) -> dict[str, str]:
    """Commit as the configured user; fall back to a dockfix identity where none is set."""
    env: dict[str, str] = {}
    try:
        git("config", "user.email", cwd=root)
    except GitError:
        env.update(
            GIT_AUTHOR_EMAIL="dockfix@users.noreply.invalid",
            GIT_COMMITTER_EMAIL="dockfix@users.noreply.invalid",
        )
    try:
        git("config", "user.name", cwd=root)
    except GitError:
        env.update(GIT_AUTHOR_NAME="dockfix", GIT_COMMITTER_NAME="dockfix")
    return env


def commit_files(root: Path, files: list[Path], code: str, name: str) -> CodeCommit:
    rel = sorted({os.path.relpath(f.resolve(), root.resolve()).replace(os.sep, "/") for f in files})
    info = CodeCommit(code, name, rel)
    if not rel:
        return info
    # Names, not patterns: `svc[12]/Dockerfile` must not also take `svc1/Dockerfile`.
    git("--literal-pathspecs", "add", "--", *rel, cwd=root)
    subject = f"dockfix: {code} {name} ({len(rel)} file{'s' if len(rel) != 1 else ''})"
    body = "\n".join(f"- {r}" for r in rel)
    git(
        "--literal-pathspecs",
        "commit",
        "-q",
        "--only",
        "-m",
        subject,
        "-m",
        body,
        "--",
        *rel,
        cwd=root,
        env=_identity_env(root),
    )
    info.sha = git("rev-parse", "HEAD", cwd=root).strip()
    return info


_MERGE_TREE = ("git", "merge-tree", "--write-tree", "--name-only", "--no-messages")
_IDENTITY_VARS = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
)


class _NoMergeTree(GitError):
    """This git cannot merge without a work tree (``merge-tree --write-tree``: git 2.38)."""


class _Reverts:
    """``git revert`` of commit sequences on one tip, in memory (``git merge-tree``); the
    sequences tried share their first steps, which are done once."""

    def __init__(self, root: Path, head: str) -> None:
        self.root = root
        self.head = head
        self.env = _identity_env(root)
        self._undo: dict[str, str] = {}
        # (commit, reverted sha) -> (the resulting commit, "") or ("", conflicting files)
        self._steps: dict[tuple[str, str], tuple[str, list[str]]] = {}

    def conflicts(self, shas: Sequence[str]) -> list[str]:
        """Revert ``shas`` in turn on the tip: the files of the first conflict, or []."""
        current = self.head
        for sha in shas:
            step = self._steps.get((current, sha))
            if step is None:
                step = self._steps[(current, sha)] = self._revert(current, sha)
            current, files = step
            if files:
                return files
        return []

    def _revert(self, current: str, sha: str) -> tuple[str, list[str]]:
        undo = self._undo.get(sha)
        if undo is None:
            # A commit holding the parent's tree on top of ``sha``: merging it into another
            # (merge base: ``sha``) is exactly ``git revert sha``.
            undo = self._undo[sha] = self._commit(f"{sha}^^{{tree}}", sha)
        proc = subprocess.run(
            [*_MERGE_TREE, current, undo], cwd=self.root, capture_output=True, text=True
        )
        if proc.returncode not in (0, 1):
            raise _NoMergeTree(proc.stderr.strip())
        tree, _, rest = proc.stdout.partition("\n")
        if proc.returncode == 1:
            names = {name for name in rest.split("\n\n", 1)[0].split("\n") if name}
            return "", sorted(names) or ["?"]
        return self._commit(tree, current), []

    def _commit(self, tree: str, parent: str) -> str:
        return git(
            "commit-tree", tree, "-p", parent, "-m", "revert", cwd=self.root, env=self.env
        ).strip()


def note_revert_dependencies(root: Path, commits: Sequence[CodeCommit]) -> None:
    """Find which of this run's commits (oldest first, HEAD the last) revert on their own.

    A commit that does not gets ``revert_with``: the later commits it reverts together with
    (newest first), checked. Those are the later commits that change its conflicting files
    and what they revert with in turn, less each of the first that it does not need; where
    they do not do, every later commit (undoing a whole suffix of the branch always applies).
    Its message then says so."""
    made = [c for c in commits if c.sha]
    if not made:
        return
    reverts = _Reverts(root, made[-1].sha)
    found: dict[str, list[CodeCommit]] = {}

    def closure(direct: list[CodeCommit], later: list[CodeCommit]) -> list[CodeCommit]:
        codes = {c.code for c in direct}
        for c in direct:
            codes.update(d.code for d in found[c.code])
        return [c for c in later if c.code in codes]

    def clean(commit: CodeCommit, together: list[CodeCommit]) -> bool:
        return not reverts.conflicts([*(c.sha for c in reversed(together)), commit.sha])

    try:
        for i in reversed(range(len(made))):  # newest first: the later ones are known
            commit, later = made[i], made[i + 1 :]
            conflicts = reverts.conflicts([commit.sha])
            if not conflicts:
                found[commit.code] = []
                continue
            direct = [c for c in later if set(c.files) & set(conflicts)]
            together = closure(direct, later)
            if not (together and clean(commit, together)):
                direct = together = later
            for other in list(direct):  # keep only those it needs
                fewer = [c for c in direct if c is not other]
                if clean(commit, closure(fewer, later)):
                    direct, together = fewer, closure(fewer, later)
            found[commit.code] = together
    except _NoMergeTree:
        return  # not checked: nothing is promised
    for commit in made:
        commit.revert_with = [c.code for c in found[commit.code]]
    _restate_messages(root, made)


def revert_note(commit: CodeCommit) -> str:
    """What a commit's message says about reverting it ("" when it reverts on its own)."""
    if not commit.revert_with:
        return ""
    others = ", ".join(commit.revert_with)
    return (
        f"Reverting this commit alone conflicts with later changes to the same or "
        f"neighbouring lines: "
        f"revert it together with the {others} commit{'s' if len(commit.revert_with) > 1 else ''}"
        " (newest first)."
    )


def _restate_messages(root: Path, made: Sequence[CodeCommit]) -> None:
    """Re-create this run's commits from the first that needs a note, with the note in its
    message (same trees, authors and dates), and move the checked-out branch to the new tip."""
    first = next((i for i, c in enumerate(made) if c.revert_with), None)
    if first is None:
        return
    old_head = made[-1].sha
    parent = git("rev-parse", f"{made[first].sha}^", cwd=root).strip()
    for commit in made[first:]:
        fields = git(
            "log",
            "-1",
            "--date=raw",
            "--format=%an%x00%ae%x00%ad%x00%cn%x00%ce%x00%cd%x00%B",
            commit.sha,
            cwd=root,
        ).split("\0")
        env = dict(zip(_IDENTITY_VARS, fields[:6], strict=True))
        message = fields[6].rstrip("\n")
        note = revert_note(commit)
        if note:
            message += "\n\n" + note
        commit.sha = git(
            "commit-tree",
            f"{commit.sha}^{{tree}}",
            "-p",
            parent,
            "-m",
            message,
            cwd=root,
            env=env,
        ).strip()
        parent = commit.sha
    git("update-ref", "-m", "dockfix: note revert dependencies", "HEAD", parent, old_head, cwd=root)


@dataclass
class ChangedFiles:
    """What changed in a work tree since a revision (``--changed-since``): absolute paths."""

    root: str  # the work tree's top, resolved
    paths: set[str] = field(default_factory=set)
    # Every directory holding a changed path, at any depth: a context changed when it is one.
    directories: set[str] = field(default_factory=set)

    def touches(self, dockerfile: str, context: str) -> bool:
        """Whether the Dockerfile's bytes or anything under its build context changed."""
        return os.path.realpath(dockerfile) in self.paths or (
            os.path.realpath(context) in self.directories
        )

    def contains(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.root or real.startswith(self.root.rstrip("/") + "/")


def changed_since(start: Path, ref: str) -> ChangedFiles:
    """The files changed between ``ref`` and the work tree (staged or not, both names of a
    rename, deleted files) and the untracked files git does not ignore: what a pull request
    touched, and what a local run has not committed yet."""
    try:
        top = git("rev-parse", "--show-toplevel", cwd=start).strip()
    except (GitError, FileNotFoundError):
        raise GitError("--changed-since needs a git work tree") from None
    try:
        sha = git(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", cwd=start
        )
    except GitError:
        raise GitError(f"--changed-since: unknown revision `{ref}`") from None
    root = os.path.realpath(top)
    fields = git(
        "diff",
        "--name-status",
        "-z",
        "--find-renames",
        "--no-ext-diff",
        sha.strip(),
        "--",
        cwd=Path(root),
    ).split("\0")
    names: list[str] = []
    while fields and fields[0]:
        status = fields.pop(0)
        names.append(fields.pop(0))
        if status[0] in "RC":
            names.append(fields.pop(0))  # the new name; the old one above
    names.extend(
        n
        for n in git("ls-files", "--others", "--exclude-standard", "-z", cwd=Path(root)).split("\0")
        if n
    )
    out = ChangedFiles(root)
    for name in names:
        full = os.path.join(root, name)
        out.paths.add(full)
        directory = os.path.dirname(full)
        while directory not in out.directories and len(directory) >= len(root):
            out.directories.add(directory)
            directory = os.path.dirname(directory)
    return out
