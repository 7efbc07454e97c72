"""The dependency installers (pip, npm, Cargo …): one data row per tool, for DF101 and DF104.

Data only (``commands`` reads a command line against it): which commands install dependencies,
which project files they read, how to keep the project itself out of the install, which flags
keep the lock file untouched, what they write inside the project, where they cache downloads
and what turns that cache off. The per-tool
rules that need to read file contents (scripts in ``package.json``, path dependencies,
workspaces) live with the fixer that uses them.

Paths in ``manifests``/``lock_files``/``config_files``/``project_outputs`` are relative to the
project directory (where the manifest is). ``cache_dirs`` are the defaults for the root user in
the official images, and ``cache_env`` the variables that move them (DF104 computes the real
location in ``_cache_dirs``).
"""

from __future__ import annotations

from typing import NamedTuple


class PackageManager(NamedTuple):
    name: str  # the tool: "npm"
    ecosystem: str  # "node", "python", ...
    executables: tuple[str, ...]  # argv[0] after the directory is removed
    # Subcommands (argv words after the executable and its global options) that install the
    # project's dependencies; () means the bare executable installs (``yarn``, ``bundle``).
    install_subcommands: tuple[tuple[str, ...], ...]
    manifests: tuple[str, ...]  # read by every install; at least the first must exist
    lock_files: tuple[str, ...]  # read when present
    config_files: tuple[str, ...]  # project-level configuration read when present
    # The flag that makes the install leave the project itself out (None: it never installs it,
    # or the tool has no such flag).
    skip_project_flag: str | None
    # Flags / subcommands under which an existing lock file is never rewritten.
    frozen_flags: tuple[str, ...]
    frozen_subcommands: tuple[str, ...]
    frozen_env: tuple[str, ...]  # environment variables that do the same when truthy
    lock_rewritten_by_default: bool  # False: the install never rewrites an existing lock file
    project_outputs: tuple[str, ...]  # written inside the project directory by the install
    cache_dirs: tuple[str, ...]  # download caches (root user, official images)
    cache_env: tuple[str, ...]  # variables that move the cache
    # Global options placed before the subcommand that take a value (so the value is not
    # mistaken for the subcommand).
    global_value_options: tuple[str, ...] = ()
    no_cache_flags: tuple[str, ...] = ()  # options that keep downloads out of the cache
    no_cache_env: tuple[str, ...] = ()  # variables that do the same (also for a wrapped pip)
    cache_clean_commands: tuple[tuple[str, ...], ...] = ()  # argv prefixes that empty it


_PIP_CACHE = ("/root/.cache/pip",)

PACKAGE_MANAGERS: dict[str, PackageManager] = {
    pm.name: pm
    for pm in (
        PackageManager(
            name="pip",
            ecosystem="python",
            executables=(
                "pip",
                "pip3",
            ),  # pip3.12 etc. matched by pattern, `python -m pip` too
            install_subcommands=(("install",), ("wheel",), ("download",)),
            manifests=(),  # the requirement files named by -r/-c
            lock_files=(),
            config_files=(),
            skip_project_flag=None,
            frozen_flags=(),
            frozen_subcommands=(),
            frozen_env=(),
            lock_rewritten_by_default=False,
            project_outputs=(),
            cache_dirs=_PIP_CACHE,
            cache_env=("PIP_CACHE_DIR",),
            global_value_options=(
                "--cache-dir",
                "--log",
                "--proxy",
                "--cert",
                "--python",
            ),
            no_cache_flags=("--no-cache-dir", "--no-cache"),
            no_cache_env=("PIP_NO_CACHE_DIR",),
            cache_clean_commands=(("pip", "cache", "purge"),),
        ),
        PackageManager(
            name="uv-pip",
            ecosystem="python",
            executables=("uv",),
            install_subcommands=(("pip", "install"), ("pip", "sync")),
            manifests=(),
            lock_files=(),
            config_files=("uv.toml", ".python-version"),
            skip_project_flag=None,
            frozen_flags=(),
            frozen_subcommands=(),
            frozen_env=(),
            lock_rewritten_by_default=False,
            project_outputs=(),
            cache_dirs=("/root/.cache/uv",),
            cache_env=("UV_CACHE_DIR",),
            global_value_options=(
                "--cache-dir",
                "--directory",
                "--project",
                "--config-file",
            ),
            no_cache_flags=("--no-cache", "-n"),
            no_cache_env=("UV_NO_CACHE",),
            cache_clean_commands=(("uv", "cache", "clean"),),
        ),
        PackageManager(
            name="uv",
            ecosystem="python",
            executables=("uv",),
            install_subcommands=(("sync",),),
            manifests=("pyproject.toml",),
            lock_files=("uv.lock",),
            config_files=("uv.toml", ".python-version", ".python-versions"),
            skip_project_flag="--no-install-project",
            frozen_flags=("--frozen", "--locked"),
            frozen_subcommands=(),
            frozen_env=("UV_FROZEN", "UV_LOCKED"),
            lock_rewritten_by_default=True,
            project_outputs=(".venv",),
            cache_dirs=("/root/.cache/uv",),
            cache_env=("UV_CACHE_DIR",),
            global_value_options=(
                "--cache-dir",
                "--directory",
                "--project",
                "--config-file",
            ),
            no_cache_flags=("--no-cache", "-n"),
            no_cache_env=("UV_NO_CACHE",),
            cache_clean_commands=(("uv", "cache", "clean"),),
        ),
        PackageManager(
            name="poetry",
            ecosystem="python",
            executables=("poetry",),
            install_subcommands=(("install",),),
            manifests=("pyproject.toml",),
            lock_files=("poetry.lock",),
            config_files=("poetry.toml",),
            skip_project_flag="--no-root",
            frozen_flags=(),
            frozen_subcommands=(),
            frozen_env=(),
            lock_rewritten_by_default=False,  # an existing lock is never rewritten by install
            project_outputs=(".venv",),  # only with virtualenvs.in-project
            cache_dirs=("/root/.cache/pypoetry",),
            cache_env=("POETRY_CACHE_DIR",),
            global_value_options=("-C", "--directory", "-P", "--project"),
            no_cache_flags=("--no-cache",),
            cache_clean_commands=(("poetry", "cache", "clear"),),
        ),
        PackageManager(
            name="pipenv",
            ecosystem="python",
            executables=("pipenv",),
            install_subcommands=(("install",), ("sync",)),
            manifests=("Pipfile",),
            lock_files=("Pipfile.lock",),
            config_files=(".env",),  # pipenv loads it unless PIPENV_DONT_LOAD_ENV
            skip_project_flag=None,
            frozen_flags=("--deploy", "--ignore-pipfile"),
            frozen_subcommands=("sync",),
            frozen_env=(),
            lock_rewritten_by_default=True,
            project_outputs=(".venv",),  # with PIPENV_VENV_IN_PROJECT
            # pipenv hands its own cache directory to the pip it runs (`--cache-dir`).
            cache_dirs=("/root/.cache/pipenv",),
            cache_env=("PIPENV_CACHE_DIR", "XDG_CACHE_HOME"),
            no_cache_env=("PIP_NO_CACHE_DIR",),
            cache_clean_commands=(("pipenv", "--clear"),),
        ),
        PackageManager(
            name="npm",
            ecosystem="node",
            executables=("npm",),
            install_subcommands=(
                ("ci",),
                ("clean-install",),
                ("ic",),
                ("install-clean",),
                ("isntall-clean",),
                ("install",),
                ("i",),
                ("in",),
                ("ins",),
                ("inst",),
                ("insta",),
                ("instal",),
                ("isnt",),
                ("isnta",),
                ("isntal",),
                ("isntall",),
                ("add",),
            ),
            manifests=("package.json",),
            lock_files=("package-lock.json", "npm-shrinkwrap.json"),
            config_files=(".npmrc",),
            skip_project_flag=None,
            frozen_flags=("--no-package-lock", "--package-lock=false"),
            frozen_subcommands=(
                "ci",
                "clean-install",
                "ic",
                "install-clean",
                "isntall-clean",
            ),
            frozen_env=(),
            lock_rewritten_by_default=True,
            project_outputs=("node_modules",),
            cache_dirs=("/root/.npm",),
            cache_env=("npm_config_cache", "NPM_CONFIG_CACHE"),
            global_value_options=(
                "--prefix",
                "-C",
                "--userconfig",
                "--cache",
                "--loglevel",
            ),
            cache_clean_commands=(("npm", "cache", "clean"), ("npm", "cache", "clear")),
        ),
        PackageManager(
            name="yarn",
            ecosystem="node",
            executables=("yarn", "yarnpkg"),
            install_subcommands=((), ("install",)),
            manifests=("package.json",),
            lock_files=("yarn.lock",),
            # Classic reads .yarnrc/.npmrc; Berry reads .yarnrc.yml, its yarnPath release and
            # plugins (resolved by the fixer from .yarnrc.yml).
            config_files=(".yarnrc", ".npmrc", ".yarnrc.yml", ".env.yarn"),
            skip_project_flag=None,
            frozen_flags=("--frozen-lockfile", "--pure-lockfile", "--immutable"),
            frozen_subcommands=(),
            frozen_env=("YARN_ENABLE_IMMUTABLE_INSTALLS", "YARN_FROZEN_LOCKFILE"),
            lock_rewritten_by_default=True,
            project_outputs=(
                "node_modules",
                ".pnp.cjs",
                ".pnp.loader.mjs",
                ".yarn/install-state.gz",
                ".yarn/unplugged",
                ".yarn/build-state.yml",
            ),
            # Classic (root); Berry keeps a global cache in ~/.yarn/berry/cache.
            cache_dirs=("/usr/local/share/.cache/yarn", "/root/.yarn/berry/cache"),
            cache_env=("YARN_CACHE_FOLDER", "YARN_GLOBAL_FOLDER"),
            global_value_options=(
                "--cwd",
                "--modules-folder",
                "--cache-folder",
                "--mutex",
            ),
            cache_clean_commands=(("yarn", "cache", "clean"),),
        ),
        PackageManager(
            name="pnpm",
            ecosystem="node",
            executables=("pnpm",),
            install_subcommands=(("install",), ("i",), ("fetch",)),
            manifests=("package.json",),  # `pnpm fetch` reads only the lock file
            lock_files=("pnpm-lock.yaml",),
            config_files=(".npmrc", "pnpm-workspace.yaml", ".pnpmfile.cjs"),
            skip_project_flag=None,
            frozen_flags=("--frozen-lockfile",),
            frozen_subcommands=("fetch",),
            frozen_env=("npm_config_frozen_lockfile",),
            lock_rewritten_by_default=True,
            project_outputs=("node_modules",),
            cache_dirs=("/root/.local/share/pnpm/store", "/root/.cache/pnpm"),
            cache_env=("PNPM_HOME", "npm_config_store_dir", "XDG_DATA_HOME"),
            global_value_options=("-C", "--dir", "--store-dir"),
            cache_clean_commands=(("pnpm", "store", "prune"),),
        ),
        PackageManager(
            name="bun",
            ecosystem="node",
            executables=("bun",),
            install_subcommands=(("install",), ("i",), ("ci",)),
            manifests=("package.json",),
            lock_files=("bun.lock", "bun.lockb"),
            config_files=("bunfig.toml", ".npmrc"),
            skip_project_flag=None,
            frozen_flags=("--frozen-lockfile",),
            frozen_subcommands=("ci",),
            frozen_env=(),
            lock_rewritten_by_default=True,
            project_outputs=("node_modules",),
            cache_dirs=("/root/.bun/install/cache",),
            cache_env=("BUN_INSTALL_CACHE_DIR", "BUN_INSTALL"),
            global_value_options=("--cwd",),
            no_cache_flags=("--no-cache",),
            cache_clean_commands=(("bun", "pm", "cache", "rm"),),
        ),
        PackageManager(
            name="go",
            ecosystem="go",
            executables=("go",),
            install_subcommands=(("mod", "download"),),
            manifests=("go.mod",),
            lock_files=("go.sum",),
            config_files=(),
            skip_project_flag=None,
            frozen_flags=(),
            frozen_subcommands=(),
            frozen_env=(),
            # Since Go 1.16 `go mod download` leaves go.mod alone and adds to go.sum only the
            # sums that loading the build list needs, which `go build` needs as well.
            lock_rewritten_by_default=False,
            project_outputs=(),
            cache_dirs=("/go/pkg/mod", "/root/.cache/go-build"),
            cache_env=("GOMODCACHE", "GOPATH", "GOCACHE"),
            cache_clean_commands=(
                ("go", "clean", "-modcache"),
                ("go", "clean", "-cache"),
            ),
        ),
        PackageManager(
            name="cargo",
            ecosystem="rust",
            executables=("cargo",),
            install_subcommands=(("fetch",),),
            manifests=("Cargo.toml",),
            lock_files=("Cargo.lock",),
            config_files=(
                ".cargo/config.toml",
                ".cargo/config",
                "rust-toolchain.toml",
                "rust-toolchain",
            ),
            skip_project_flag=None,
            frozen_flags=("--locked", "--frozen"),
            frozen_subcommands=(),
            frozen_env=(),
            lock_rewritten_by_default=True,
            project_outputs=(),
            cache_dirs=("/usr/local/cargo/registry", "/usr/local/cargo/git"),
            cache_env=("CARGO_HOME",),
        ),
        PackageManager(
            name="bundler",
            ecosystem="ruby",
            executables=("bundle", "bundler"),
            install_subcommands=((), ("install",)),
            manifests=("Gemfile",),  # gems.rb is the alternative name
            lock_files=("Gemfile.lock",),
            config_files=(".bundle/config",),
            skip_project_flag=None,
            frozen_flags=("--frozen", "--deployment"),
            frozen_subcommands=(),
            frozen_env=("BUNDLE_FROZEN", "BUNDLE_DEPLOYMENT"),
            lock_rewritten_by_default=True,  # it adds platforms and bumps BUNDLED WITH
            project_outputs=(".bundle",),  # and vendor/bundle in deployment mode
            cache_dirs=("/usr/local/bundle/cache", "/root/.bundle/cache"),
            cache_env=("BUNDLE_PATH", "BUNDLE_USER_CACHE", "GEM_HOME"),
            global_value_options=("--gemfile",),
        ),
        PackageManager(
            name="composer",
            ecosystem="php",
            executables=("composer", "composer.phar"),
            install_subcommands=(("install",), ("i",)),
            manifests=("composer.json",),
            lock_files=("composer.lock",),
            config_files=("auth.json",),
            skip_project_flag=None,
            frozen_flags=(),
            frozen_subcommands=(),
            frozen_env=(),
            lock_rewritten_by_default=False,  # install never rewrites an existing lock
            project_outputs=("vendor",),
            cache_dirs=(
                "/root/.cache/composer",
                "/tmp/cache",
            ),  # the composer image: COMPOSER_HOME=/tmp
            cache_env=("COMPOSER_CACHE_DIR", "COMPOSER_HOME"),
            global_value_options=("-d", "--working-dir"),
        ),
        PackageManager(
            name="maven",
            ecosystem="java",
            executables=("mvn", "mvnw"),
            install_subcommands=(
                ("dependency:go-offline",),
                ("dependency:resolve",),
                ("dependency:resolve-plugins",),
            ),
            manifests=("pom.xml",),
            lock_files=(),
            config_files=(".mvn",),
            skip_project_flag=None,
            frozen_flags=(),
            frozen_subcommands=(),
            frozen_env=(),
            lock_rewritten_by_default=False,
            project_outputs=(),
            cache_dirs=("/root/.m2/repository",),
            cache_env=("MAVEN_OPTS", "MAVEN_CONFIG"),
            global_value_options=(
                "-f",
                "--file",
                "-s",
                "--settings",
                "-gs",
                "-t",
                "-P",
                "-T",
                "-l",
            ),
        ),
        PackageManager(
            name="gradle",
            ecosystem="java",
            executables=("gradle", "gradlew"),
            install_subcommands=(("dependencies",), ("androidDependencies",)),
            manifests=("build.gradle",),  # or build.gradle.kts
            lock_files=("gradle.lockfile", "settings-gradle.lockfile"),
            config_files=(
                "settings.gradle",
                "settings.gradle.kts",
                "gradle.properties",
                "gradle",
            ),
            skip_project_flag=None,
            frozen_flags=(),
            frozen_subcommands=(),
            frozen_env=(),
            lock_rewritten_by_default=False,  # only with --write-locks
            project_outputs=(".gradle", "build"),
            cache_dirs=("/root/.gradle/caches", "/home/gradle/.gradle/caches"),
            cache_env=("GRADLE_USER_HOME",),
            global_value_options=(
                "-p",
                "--project-dir",
                "-b",
                "--build-file",
                "-c",
                "-g",
                "-x",
            ),
        ),
        PackageManager(
            name="dotnet",
            ecosystem="dotnet",
            executables=("dotnet",),
            install_subcommands=(("restore",),),
            manifests=(),  # the *.csproj / *.fsproj / *.vbproj found by the fixer
            lock_files=("packages.lock.json",),
            config_files=(
                "Directory.Build.props",
                "Directory.Build.targets",
                "Directory.Packages.props",
                "global.json",
                "NuGet.config",
                "nuget.config",
                "NuGet.Config",
            ),
            skip_project_flag=None,
            frozen_flags=("--locked-mode",),
            frozen_subcommands=(),
            frozen_env=(),
            lock_rewritten_by_default=True,  # when packages.lock.json exists
            project_outputs=("obj",),
            cache_dirs=("/root/.nuget/packages",),
            cache_env=("NUGET_PACKAGES",),
        ),
        PackageManager(
            name="mix",
            ecosystem="elixir",
            executables=("mix",),
            install_subcommands=(("deps.get",),),
            manifests=("mix.exs",),
            lock_files=("mix.lock",),
            config_files=(),
            skip_project_flag=None,
            frozen_flags=("--check-locked",),
            frozen_subcommands=(),
            frozen_env=(),
            lock_rewritten_by_default=True,
            project_outputs=("deps",),
            cache_dirs=("/root/.hex", "/root/.mix"),
            cache_env=("HEX_HOME", "MIX_HOME", "MIX_DEPS_PATH"),
        ),
    )
}
