"""DF305 node-single-stage: a Node build-and-run stage split into build and slim runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockfix.core.fixer import Applicability
from stage_split_runner import run_rule

TS = {
    "package.json": json.dumps(
        {
            "name": "svc",
            "scripts": {
                "build": "rimraf dist && tsc -p tsconfig.build.json",
                "start": "node dist/main.js",
            },
            "dependencies": {"express": "^4"},
            "devDependencies": {"typescript": "^5", "rimraf": "^5"},
        }
    ),
    "package-lock.json": '{"lockfileVersion": 3}',
    # comments and trailing commas, as tsc accepts them; outDir comes through `extends`
    "tsconfig.json": '{\n  // shared\n  "compilerOptions": {"outDir": "./build/out", /* x */ },\n}\n',
    "tsconfig.build.json": '{"extends": "./tsconfig.json", "exclude": ["**/*.test.ts"]}',
    "src/main.ts": "",
}
DOCKERFILE = """\
FROM node:20
WORKDIR /app
COPY . .
RUN npm ci && npm run build
ENV PORT=3000
CMD ["npm", "start"]
"""


def run(text: str, tmp_path: Path, files: dict[str, str]) -> tuple[str, list]:
    return run_rule("DF305", text, tmp_path, files)


def test_typescript_service_split(tmp_path: Path) -> None:
    files = {**TS, "package.json": TS["package.json"].replace("dist/main.js", "build/out/main.js")}
    out, left = run(DOCKERFILE, tmp_path, files)
    assert out == (
        "FROM node:20 AS build\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "RUN npm ci && npm run build && npm prune --omit=dev\n"
        "\n"
        "FROM node:20-slim\n"
        "WORKDIR /app\n"
        "COPY --from=build /app/package.json ./package.json\n"
        "COPY --from=build /app/node_modules ./node_modules\n"
        "COPY --from=build /app/build/out ./build/out\n"
        "ENV PORT=3000\n"
        'CMD ["npm", "start"]\n'
    )
    assert left == []


def test_the_finding_is_an_unsafe_fix(tmp_path: Path) -> None:
    files = {**TS, "package.json": TS["package.json"].replace("dist/main.js", "build/out/main.js")}
    out, left = run_rule("DF305", DOCKERFILE, tmp_path, files, unsafe=False)
    assert out == DOCKERFILE
    assert [f.applicability for f in left] == [Applicability.UNSAFE]


@pytest.mark.parametrize(
    ("lock", "extra", "prune"),
    [
        ("pnpm-lock.yaml", {}, "pnpm prune --prod"),
        ("yarn.lock", {}, "yarn install --production --frozen-lockfile --prefer-offline"),
        (
            "yarn.lock",
            {".yarnrc.yml": "nodeLinker: node-modules\n"},
            "yarn workspaces focus --all --production",
        ),
    ],
)
def test_prune_command_follows_the_package_manager(
    tmp_path: Path, lock: str, extra: dict[str, str], prune: str
) -> None:
    files = {k: v for k, v in TS.items() if k != "package-lock.json"}
    files["package.json"] = files["package.json"].replace("build/out", "dist")
    files["tsconfig.json"] = '{"compilerOptions": {"outDir": "dist"}}'
    files[lock] = "__metadata:\n" if extra else ""
    files.update(extra)
    src = DOCKERFILE.replace(
        "npm ci && npm run build",
        "corepack enable && "
        + ("pnpm install && pnpm build" if "pnpm" in lock else "yarn && yarn build"),
    )
    out, _ = run(src, tmp_path, files)
    assert f"build && {prune}\n" in out


def test_yarn_plug_n_play_is_display_only(tmp_path: Path) -> None:
    files = {k: v for k, v in TS.items() if k != "package-lock.json"}
    files["yarn.lock"] = "__metadata:\n  version: 8\n"
    src = DOCKERFILE.replace("npm ci && npm run build", "yarn install --immutable && yarn build")
    out, left = run(src, tmp_path, files)
    assert out == src and "Plug'n'Play" in (left[0].reason or "")


def test_package_manager_field_names_the_yarn(tmp_path: Path) -> None:
    """package.json's `packageManager` decides, as corepack does: Yarn 4 with an empty
    yarn.lock is Yarn 2+ (PnP here), Yarn 1 with a left-over .yarnrc.yml is classic."""
    files = {k: v for k, v in TS.items() if k != "package-lock.json"}
    files["tsconfig.json"] = '{"compilerOptions": {"outDir": "dist"}}'
    files["yarn.lock"] = ""
    src = DOCKERFILE.replace("npm ci && npm run build", "yarn install && yarn build")
    files["package.json"] = files["package.json"].replace(
        "{", '{"packageManager": "yarn@4.5.3", ', 1
    )
    out, left = run(src, tmp_path, files)
    assert out == src and "Plug'n'Play" in (left[0].reason or "")
    files["package.json"] = files["package.json"].replace("yarn@4.5.3", "yarn@1.22.22")
    files[".yarnrc.yml"] = "nodeLinker: pnp\n"
    out, _ = run(src, tmp_path, files)
    assert "yarn install --production --frozen-lockfile --prefer-offline\n" in out


def test_already_production_modules_are_not_pruned_again(tmp_path: Path) -> None:
    files = {**TS, "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'}
    src = DOCKERFILE.replace("npm run build", "npm run build && npm prune --omit=dev")
    out, _ = run(src, tmp_path, files)
    assert out.count("npm prune") == 1 and "FROM node:20-slim" in out


def test_runtime_files_of_the_project_are_copied(tmp_path: Path) -> None:
    files = {
        **TS,
        "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}',
        "views/index.hbs": "",
        "config/default.json": "{}",
    }
    out, _ = run(DOCKERFILE, tmp_path, files)
    assert "COPY --from=build /app/views ./views\n" in out
    assert "COPY --from=build /app/config ./config\n" in out


def test_next_standalone(tmp_path: Path) -> None:
    files = {
        "package.json": json.dumps({"scripts": {"build": "next build", "start": "next start"}}),
        "package-lock.json": "{}",
        "next.config.mjs": "export default { output: 'standalone' };\n",
        "public/logo.svg": "",
    }
    out, _ = run(DOCKERFILE, tmp_path, files)
    assert out.endswith(
        "FROM node:20-slim\n"
        "WORKDIR /app\n"
        "COPY --from=build /app/.next/standalone ./\n"
        "COPY --from=build /app/.next/static ./.next/static\n"
        "COPY --from=build /app/public ./public\n"
        "ENV HOSTNAME=0.0.0.0\n"
        "ENV PORT=3000\n"
        'CMD ["node", "server.js"]\n'
    )
    assert "prune" not in out  # the standalone output carries its own node_modules


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"tsconfig.json": '{"compilerOptions": {}}'}, "sets no `compilerOptions.outDir`"),
        ({"package.json": json.dumps({"scripts": {"build": "webpack"}})}, "`webpack` writes"),
        (
            {
                "package.json": TS["package.json"].replace(
                    '"node dist/main.js"', '"ts-node src/main.ts"'
                )
            },
            "compiles the sources at start",
        ),
        (
            {
                "package.json": TS["package.json"].replace(
                    '"start"', '"prestart": "npm run build", "start"'
                )
            },
            "`prestart` script",
        ),
        (
            {
                "package.json": json.dumps(
                    {"workspaces": ["packages/*"], "scripts": {"build": "tsc"}}
                )
            },
            "workspaces",
        ),
        ({"bun.lockb": ""}, "Bun"),
        (
            {
                "next.config.js": "module.exports = {}\n",
                "package.json": json.dumps(
                    {"scripts": {"build": "next build", "start": "next start"}}
                ),
            },
            'does not set `output: "standalone"`',
        ),
        (
            {
                "package.json": json.dumps(
                    {"scripts": {"build": "vite build", "start": "serve -s dist"}}
                )
            },
            "serve them from an nginx or static-server image",
        ),
        (
            {"package.json": TS["package.json"].replace('"node dist/main.js"', '"node server.js"')},
            "`server.js`, which is not in the build output",
        ),
    ],
)
def test_display_only_names_what_was_checked(
    tmp_path: Path, change: dict[str, str | None], reason: str
) -> None:
    files = {**TS, "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'}
    for k, v in change.items():
        if v is None:
            files.pop(k)
        else:
            files[k] = v
    out, left = run(DOCKERFILE, tmp_path, files)
    assert out == DOCKERFILE
    assert len(left) == 1 and left[0].fix is None
    assert reason in (left[0].reason or ""), left[0].reason


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        (
            DOCKERFILE.replace(
                "COPY . .", "RUN apt-get update && apt-get install -y ffmpeg\nCOPY . ."
            ),
            "`apt-get install ffmpeg`",
        ),
        (
            DOCKERFILE.replace(
                "ENV PORT", "HEALTHCHECK CMD curl -f http://localhost:3000/\nENV PORT"
            ),
            "`curl`",
        ),
        (DOCKERFILE.replace("CMD", "RUN useradd app\nUSER app\nCMD"), "`USER app`"),
        (
            DOCKERFILE.replace("COPY . .", "COPY . .\nCOPY certs/ /etc/ssl/private/"),
            "outside the project",
        ),
    ],
)
def test_stage_contents_the_runtime_would_lose(tmp_path: Path, src: str, reason: str) -> None:
    files = {**TS, "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}', "certs/a.pem": ""}
    out, left = run(src, tmp_path, files)
    assert out == src
    assert reason in (left[0].reason or ""), left[0].reason


@pytest.mark.parametrize(
    "src",
    [
        DOCKERFILE.replace("RUN npm ci && npm run build", "RUN npm ci"),  # no build
        DOCKERFILE.replace('CMD ["npm", "start"]\n', ""),  # no start command: a build image
        "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n"
        'FROM node:20-slim\nCOPY --from=build /app/dist /app/dist\nCMD ["node", "/app/dist/main.js"]\n',
    ],
)
def test_no_finding(tmp_path: Path, src: str) -> None:
    assert run(src, tmp_path, TS) == (src, [])


def test_development_dockerfile_is_not_reported(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.dev").write_text(DOCKERFILE)
    import dockfix

    _, left = dockfix.fix(
        DOCKERFILE,
        path=tmp_path / "Dockerfile.dev",
        context_dir=tmp_path,
        select=["DF305"],
        offline=True,
    )
    assert left == []


def test_user_node_before_the_build_is_kept_in_the_runtime(tmp_path: Path) -> None:
    files = {**TS, "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'}
    src = DOCKERFILE.replace("COPY . .", "USER node\nCOPY --chown=node:node . .")
    out, _ = run(src, tmp_path, files)
    runtime = out.split("FROM node:20-slim\n", 1)[1]
    assert runtime.startswith("WORKDIR /app\nUSER node\n")


@pytest.mark.parametrize(
    ("build", "cmd"),
    [
        ("npx tsc -p tsconfig.json", '["node", "dist/main.js"]'),  # the compiler run directly
        ("npm run build", '["node", "."]'),  # `node .` runs package.json's main
    ],
)
def test_direct_compiler_and_package_main(tmp_path: Path, build: str, cmd: str) -> None:
    files = {**TS, "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}'}
    files["package.json"] = json.dumps({**json.loads(TS["package.json"]), "main": "dist/main.js"})
    src = DOCKERFILE.replace("npm run build", build).replace('["npm", "start"]', cmd)
    out, left = run(src, tmp_path, files)
    assert left == [] and "COPY --from=build /app/dist ./dist\n" in out, left and left[0].reason


def test_build_named_by_a_variable_is_still_found(tmp_path: Path) -> None:
    # Images whose RUNs cannot be a Node build skip the stage analysis; a script name held by
    # a variable is not in the RUN's text and must still be read.
    files = {**TS, "package.json": TS["package.json"].replace("dist/main.js", "build/out/main.js")}
    text = DOCKERFILE.replace(
        "RUN npm ci && npm run build", "ARG TASK=build\nRUN npm ci && npm run $TASK"
    )
    out, left = run(text, tmp_path, files)
    assert out.startswith("FROM node:20 AS build\n")
    assert "RUN npm ci && npm run $TASK && npm prune --omit=dev\n\nFROM node:20-slim\n" in out
    assert left == []


# Found by building and starting real apps (tests/buildenv/apps/node-*): the runtime stage
# must hold what the started service reads besides its build output.
PLAIN = {
    "package.json": json.dumps(
        {
            "name": "svc",
            "scripts": {"build": "tsc", "start": "node dist/main.js"},
            "devDependencies": {"typescript": "^5"},
        }
    ),
    "package-lock.json": '{"lockfileVersion": 3}',
    "tsconfig.json": '{"compilerOptions": {"outDir": "dist", "rootDir": "src"}}',
    "src/main.ts": "",
}


def _runtime_copies(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("COPY --from=build")]


def test_a_start_preloading_tsconfig_paths_keeps_the_tsconfig(tmp_path: Path) -> None:
    pkg = json.loads(PLAIN["package.json"])
    pkg["scripts"]["start"] = "TS_NODE_BASEURL=./dist node -r tsconfig-paths/register dist/main.js"
    pkg["dependencies"] = {"tsconfig-paths": "^4"}
    out, left = run(DOCKERFILE, tmp_path, {**PLAIN, "package.json": json.dumps(pkg)})
    assert "COPY --from=build /app/tsconfig.json ./tsconfig.json" in _runtime_copies(out)
    assert left == []


def test_a_start_preloading_a_development_dependency_is_not_fixed(tmp_path: Path) -> None:
    pkg = json.loads(PLAIN["package.json"])
    pkg["scripts"]["start"] = "node --require dotenv/config dist/main.js"
    pkg["devDependencies"]["dotenv"] = "^16"
    out, left = run(DOCKERFILE, tmp_path, {**PLAIN, "package.json": json.dumps(pkg)})
    assert out == DOCKERFILE
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert "`dotenv/config`" in left[0].reason and "devDependencies" in left[0].reason


def test_a_local_file_dependency_is_copied_with_node_modules(tmp_path: Path) -> None:
    pkg = json.loads(PLAIN["package.json"])
    pkg["dependencies"] = {"@acme/shared": "file:packages/shared"}
    files = {
        **PLAIN,
        "package.json": json.dumps(pkg),
        "packages/shared/package.json": '{"name": "@acme/shared"}',
    }
    out, left = run(DOCKERFILE, tmp_path, files)
    # node_modules/@acme/shared is a link to ../../packages/shared
    assert "COPY --from=build /app/packages ./packages" in _runtime_copies(out)
    assert left == []


def test_a_file_dependency_outside_the_project_is_not_fixed(tmp_path: Path) -> None:
    pkg = json.loads(PLAIN["package.json"])
    pkg["dependencies"] = {"shared": "file:../shared"}
    out, left = run(DOCKERFILE, tmp_path, {**PLAIN, "package.json": json.dumps(pkg)})
    assert out == DOCKERFILE
    assert "`file:../shared`" in left[0].reason


def test_files_the_sources_read_beside_the_build_output_are_copied(tmp_path: Path) -> None:
    source = (
        'import { readFileSync } from "fs";\n'
        'import { join } from "path";\n'
        'import { helper } from "./lib/helper";\n'
        'const root = join(__dirname, "..");\n'
        'const schema = readFileSync(join(root, "db", "schema.sql"), "utf8");\n'
        "const spec = readFileSync(`${root}/api/openapi.yaml`);\n"
        'const about = readFileSync("NOTICE.txt");\n'
    )
    files = {
        **PLAIN,
        "src/main.ts": source,
        "src/lib/helper.ts": "export const helper = 1;\n",
        "db/schema.sql": "",
        "api/openapi.yaml": "",
        "NOTICE.txt": "",
        "lib/unused.ts": "",
        "scripts/seed.ts": 'readFileSync("docs/seed.md")',
        "docs/seed.md": "",
        "README.md": "",
    }
    out, left = run(DOCKERFILE, tmp_path, files)
    assert _runtime_copies(out) == [
        "COPY --from=build /app/package.json ./package.json",
        "COPY --from=build /app/node_modules ./node_modules",
        "COPY --from=build /app/dist ./dist",
        "COPY --from=build /app/NOTICE.txt ./NOTICE.txt",
        "COPY --from=build /app/api ./api",
        "COPY --from=build /app/db ./db",
    ]
    assert left == []


def test_project_files_owned_by_the_service_user_are_not_fixed(tmp_path: Path) -> None:
    text = (
        "FROM node:20\n"
        "RUN mkdir -p /home/node/app && chown -R node:node /home/node/app\n"
        "WORKDIR /home/node/app\n"
        "USER node\n"
        "COPY --chown=node:node . .\n"
        "RUN npm ci && npm run build\n"
        'CMD ["node", "dist/main.js"]\n'
    )
    out, left = run(text, tmp_path, PLAIN)
    assert out == text
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert "owned by another user" in left[0].reason


def test_the_owner_of_the_copied_project_is_kept_by_the_runtime_copies(tmp_path: Path) -> None:
    text = DOCKERFILE.replace("COPY . .", "USER node\nCOPY --chown=node:node . .")
    out, _ = run(text, tmp_path, PLAIN)
    assert _runtime_copies(out) == [
        "COPY --from=build --chown=node:node /app/package.json ./package.json",
        "COPY --from=build --chown=node:node /app/node_modules ./node_modules",
        "COPY --from=build --chown=node:node /app/dist ./dist",
    ]


def test_a_docker_entrypoint_script_of_the_project_is_not_taken_for_the_images(
    tmp_path: Path,
) -> None:
    # The node image's docker-entrypoint.sh only runs its arguments; a project's own may run
    # files the runtime stage would not have (./scripts/wait-for-config.js here).
    text = DOCKERFILE.replace(
        'CMD ["npm", "start"]',
        "COPY docker-entrypoint.sh /usr/local/bin/\n"
        'ENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["node", "dist/main.js"]',
    )
    script = '#!/bin/sh\nset -e\nnode ./scripts/wait-for-config.js\nexec "$@"\n'
    out, left = run(text, tmp_path, {**PLAIN, "docker-entrypoint.sh": script})
    assert out == text
    assert "the script `docker-entrypoint.sh` (`docker-entrypoint.sh node dist/main.js`)" in (
        left[0].reason
    )
    # without a script of its own, the image's entrypoint runs `node dist/main.js`
    plain = text.replace("COPY docker-entrypoint.sh /usr/local/bin/\n", "")
    out, left = run(plain, tmp_path, PLAIN)
    assert out != plain and left == []


def test_runtime_files_copied_after_the_build_are_not_copied_from_it(tmp_path: Path) -> None:
    text = (
        "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json tsconfig.json ./\n"
        "RUN npm ci\nCOPY src ./src\nRUN npm run build\nCOPY config ./config\n"
        'CMD ["node", "dist/main.js"]\n'
    )
    files = {
        **PLAIN,
        "src/main.ts": 'readFileSync("config/default.json")',
        "config/default.json": "{}",
    }
    out, left = run(text, tmp_path, files)
    assert left == []
    assert _runtime_copies(out) == [
        "COPY --from=build /app/package.json ./package.json",
        "COPY --from=build /app/node_modules ./node_modules",
        "COPY --from=build /app/dist ./dist",
    ]
    assert "COPY config ./config\n" in out


def test_the_sources_are_searched_breadth_first_within_a_budget(tmp_path: Path) -> None:
    # 450 generated modules besides the module that names `api/openapi.yaml`
    files = {**PLAIN, "src/app.ts": 'readFileSync("api/openapi.yaml")', "api/openapi.yaml": ""}
    files.update({f"src/gen/m{i}.ts": f"export const v{i} = {i};\n" for i in range(450)})
    out, _ = run(DOCKERFILE, tmp_path, files)
    assert "COPY --from=build /app/api ./api" in _runtime_copies(out)
