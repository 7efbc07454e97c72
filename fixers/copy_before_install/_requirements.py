"""Python requirement specifiers, requirement files (`-r`, `-c`, followed recursively), and
the dependencies a project declares statically (the `[project]` table of pyproject.toml, a
literal `install_requires` in setup.py)."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from dockfix.fixers._lazy import lazy_re
from dockfix.fixers.copy_before_install._command import _list, _load_toml, _Plan, _table
from dockfix.fixers.copy_before_install._tree import _join, _Tree

_LOCAL_ARCHIVE = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")


class _Requirements:
    """The requirements of a `[project]` table, the project's own extras expanded, each once.

    A class, not a recursive nested function: such a closure holds itself in a cell, a
    cycle that would leave the whole analysis to the garbage collector."""

    def __init__(self, name: str, optional: dict[str, Any]) -> None:
        self.name = name
        self.optional = optional
        self.deps: list[str] = []
        self.seen: set[str] = set()

    def add(self, specs: Any, depth: int = 0) -> str:
        """Take ``specs``; a reason when they are not a plain list of static requirements."""
        if not isinstance(specs, list) or depth > 5:
            return "its dependencies are not a plain list"
        name, optional = self.name, self.optional
        for s in specs:
            if not isinstance(s, str):
                return "its dependencies are not a plain list"
            if _req_name(s) == name and name:
                inner = re.findall(r"\[([^\]]*)\]", s.split(";", 1)[0])
                for x in (x for e in inner for x in e.split(",") if x.strip()):
                    err = self.add(
                        optional.get(_canonical(x)) or optional.get(x.strip()), depth + 1
                    )
                    if err:
                        return err
                continue
            if _is_local_requirement(s):
                return f"it depends on the local path `{s}`"
            if s not in self.seen:
                self.seen.add(s)
                self.deps.append(s)
        return ""


def _is_local_requirement(spec: str) -> bool:
    s = spec.strip()
    if s.startswith("file:"):
        return True
    if "@" in s and not s.startswith((".", "/")):
        url = s.split("@", 1)[1].strip()
        return url.startswith("file:")
    if "://" in s or s.startswith(("git+", "hg+", "svn+", "bzr+")):
        return False
    base = s.split("[", 1)[0].split(";", 1)[0].strip()
    return (
        base in (".", "..")
        or base.startswith((".", "/", "~"))
        or "/" in base
        or base.endswith(_LOCAL_ARCHIVE)
    )


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_REQ_NAME_RE = lazy_re(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _req_name(spec: str) -> str:
    m = _REQ_NAME_RE.match(spec)
    return _canonical(m.group(1)) if m else ""


def _callee_name(func: Any) -> str:
    import libcst as cst

    if isinstance(func, cst.Name):
        return func.value
    return func.attr.value if isinstance(func, cst.Attribute) else ""


def _literal_strings(node: Any) -> list[str] | None:
    """The values of a literal list or tuple of string literals (None: anything else)."""
    import libcst as cst

    if not isinstance(node, cst.List | cst.Tuple):
        return None
    out = []
    for el in node.elements:
        v = el.value
        if isinstance(v, cst.SimpleString | cst.ConcatenatedString):
            s = v.evaluated_value
            if not isinstance(s, str):
                return None
            out.append(s)
        else:
            return None
    return out


def _setup_py_requirements(text: str, extras: set[str]) -> list[str] | str:
    """A literal ``install_requires`` (plus requested extras) from setup.py, read with libcst."""
    import libcst as cst

    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        return "setup.py does not parse"
    # `setup(...)` and `setuptools.setup(...)`, wherever they are
    calls: list[cst.Call] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call) and _callee_name(node.func) == "setup":
            calls.append(node)
        stack.extend(node.children)
    if len(calls) != 1:
        return "setup.py does not call setup() exactly once"
    call = calls[0]
    if any(a.star for a in call.args):
        return "setup() receives **kwargs"
    kwargs = {a.keyword.value: a.value for a in call.args if a.keyword is not None}

    deps: list[str] = []
    if "install_requires" in kwargs:
        got = _literal_strings(kwargs["install_requires"])
        if got is None:
            return "install_requires in setup.py is not a literal list"
        deps.extend(got)
    if extras:
        ex = kwargs.get("extras_require")
        if not isinstance(ex, cst.Dict):
            return "extras_require in setup.py is not a literal dict"
        table: dict[str, list[str]] = {}
        for el in ex.elements:
            if not isinstance(el, cst.DictElement) or not isinstance(el.key, cst.SimpleString):
                return "extras_require in setup.py is not a literal dict"
            got = _literal_strings(el.value)
            key = el.key.evaluated_value
            if got is None or not isinstance(key, str):
                return "extras_require in setup.py is not a literal dict"
            table[_canonical(key)] = got
        for x in sorted(extras):
            if x not in table:
                return f"the extra `{x}` is not declared in setup.py"
            deps.extend(d for d in table[x] if d not in deps)
    return deps


def requirements_file(tree: _Tree, path: str, plan: _Plan, cwd: str, depth: int) -> str:
    text = tree.read(path)
    if text is None or depth > 8:
        return ""
    rel = tree.rel(path) or path
    lines: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = raw
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        lines.append(buf + line)
        buf = ""
    if buf:
        lines.append(buf)
    here = posixpath.dirname(path)
    for line in lines:
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if not line:
            continue
        parts = line.split(None, 1)
        head = parts[0]
        value = parts[1].strip() if len(parts) > 1 else ""
        for opt in ("--requirement", "--constraint", "--editable", "--find-links"):
            if head.startswith(opt + "="):
                head, value = opt, head.split("=", 1)[1]
        for short, long_ in (
            ("-r", "--requirement"),
            ("-c", "--constraint"),
            ("-e", "--editable"),
            ("-f", "--find-links"),
        ):
            if head.startswith(short) and len(head) > 2 and not head.startswith("--"):
                head, value = long_, head[2:]
            elif head == short:
                head = long_
        if head in ("--requirement", "--constraint"):
            if "$" in value:
                return f"`{rel}` includes `{value}`, which dockfix cannot resolve"
            if "://" in value:
                continue
            nested = _join(here, value)
            plan.need(nested)
            err = requirements_file(tree, nested, plan, cwd, depth + 1)
            if err:
                return err
        elif head == "--editable":
            if _is_local_requirement(value):
                return f"`{rel}` installs the local path `{value}`"
            plan.writes.append(_join(cwd, "src"))
        elif head == "--find-links":
            if "://" not in value:
                return f"`{rel}` finds packages in the local directory `{value}`"
        elif head.startswith("-"):
            continue
        elif _is_local_requirement(line):
            return f"`{rel}` installs the local path `{line.split()[0]}`"
    return ""


def static_dependencies(
    tree: _Tree, project: str, extras: set[str]
) -> tuple[list[str], list[str]] | str:
    pyproject = posixpath.join(project, "pyproject.toml")
    data = _load_toml(tree.read(pyproject))
    if data is None and tree.is_file(pyproject):
        return "pyproject.toml does not parse"
    proj = _table(data, "project")
    if proj:
        dynamic = _list(proj.get("dynamic"))
        if "dependencies" in dynamic or (extras and "optional-dependencies" in dynamic):
            return "its dependencies are dynamic (computed by the build backend)"
        name = _canonical(str(proj.get("name", "")))
        optional = proj.get("optional-dependencies")
        if not isinstance(optional, dict):
            optional = {}
        pick = _Requirements(name, optional)
        err = pick.add(proj.get("dependencies", []))
        canon_optional = {_canonical(k): v for k, v in optional.items()}
        for x in sorted(extras):
            if x not in canon_optional:
                return f"the extra `{x}` is not declared statically"
            err = err or pick.add(canon_optional[x])
        if err:
            return err
        return pick.deps, [pyproject]
    if _table(data, "tool", "poetry"):
        return "its dependencies are declared for Poetry, not in [project]"
    setup_py = posixpath.join(project, "setup.py")
    text = tree.read(setup_py)
    if text is None:
        return "it has no static [project.dependencies] or setup.py"
    if tree.is_file(posixpath.join(project, "setup.cfg")):
        return "setup.cfg may declare more dependencies"
    literal = _setup_py_requirements(text, extras)
    if isinstance(literal, str):
        return literal
    bad = [s for s in literal if _is_local_requirement(s)]
    if bad:
        return f"it depends on the local path `{bad[0]}`"
    return literal, [setup_py]
