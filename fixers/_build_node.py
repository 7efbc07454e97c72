"""Node builds and installs in a stage's `RUN`s, for DF301, DF302 and DF303."""

from __future__ import annotations

import posixpath


def is_node_build(argv: list[str | None]) -> bool:
    words = [a for a in argv if a is not None]
    if not words:
        return False
    prog = posixpath.basename(words[0])
    rest = [w for w in words[1:] if not w.startswith("-")]
    if prog in ("npm", "pnpm", "bun") and rest[:1] == ["run"] and len(rest) > 1:
        return rest[1].startswith("build")
    if prog in ("yarn", "pnpm") and rest:
        if rest[0] == "run" and len(rest) > 1:
            return rest[1].startswith("build")
        return rest[0].startswith("build")
    if prog == "bun" and rest[:1] == ["build"]:
        return True
    if prog == "npx" and rest[:1] in (["tsc"], ["vite"], ["webpack"]):
        return rest[0] == "tsc" or rest[1:2] == ["build"] or rest[0] == "webpack"
    return prog == "tsc"


def node_install_prod(argv: list[str | None], env: dict[str, str | None]) -> bool | None:
    """For a command that installs or prunes node_modules: whether only prod deps remain."""
    words = [a or "" for a in argv]
    prog = posixpath.basename(words[0])
    rest = words[1:]
    sub = next((w for w in rest if not w.startswith("-")), "")
    flags = set(rest)
    prod_env = env.get("NODE_ENV") == "production"
    if prog == "npm" and sub in ("ci", "install", "i"):
        if len([w for w in rest if not w.startswith("-")]) > 1:
            return None  # installs a named package
        return bool(flags & {"--omit=dev", "--only=prod", "--only=production", "--production"}) or (
            prod_env and "--include=dev" not in flags
        )
    if prog == "npm" and sub == "prune":
        return bool(flags & {"--omit=dev", "--production", "--only=production"})
    if prog == "yarn" and sub in ("", "install"):
        explicit = any(f.startswith("--production=") and f != "--production=false" for f in flags)
        return "--production" in flags or explicit or prod_env
    if prog == "yarn" and sub == "workspaces" and "focus" in rest:
        return "--production" in flags
    if prog == "pnpm" and sub in ("install", "i", "prune"):
        return bool(flags & {"--prod", "-P", "--production"}) or (sub == "install" and prod_env)
    return None
