"""DF201's reading of source files: each pattern still finds what it names behind the cheap
text test that spares a source the patterns it cannot match."""

from __future__ import annotations

import pytest

from dockfix.fixers._write_sources import scan_source

SAMPLES = [
    ('open("/data/out.txt", "w")', ("/data/out.txt", "file")),
    ('os.makedirs("/srv/up")', ("/srv/up", "dir")),
    ('h = RotatingFileHandler("/var/log/app.log")', ("/var/log/app.log", "file")),
    ('sqlite3.connect("shop.db")', ("/app/shop.db", "file")),
    ('Path("/srv/cache").mkdir()', ("/srv/cache", "dir")),
    ('MEDIA_ROOT = os.path.join(BASE_DIR, "media")', ("/media", "dir")),
    ('"NAME": BASE_DIR / "db" / "app.sqlite3"', ("/db/app.sqlite3", "file")),
    ('UPLOAD_FOLDER = "/uploads"', ("/uploads", "dir")),
    ('fs.writeFileSync(path.join(__dirname, "out.json"), s)', ("/app/out.json", "?")),
    ('fs.mkdirSync("logs")', ("/app/logs", "?")),
    ('multer({ dest: "uploads/" })', ("/app/uploads", "dir")),
    ('const db = new Database("data.db")', ("/app/data.db", "file")),
    ('os.MkdirAll("/var/lib/app", 0o755)', ("/var/lib/app", "?")),
    ('File.open("log.txt", "w")', ("/app/log.txt", "file")),
    ('url = "sqlite:////data/app.db"', ("/data/app.db", "file")),
]


@pytest.mark.parametrize(("text", "write"), SAMPLES)
def test_each_write_pattern_still_finds_its_write(text: str, write: tuple[str, str]) -> None:
    assert write in scan_source(text, "/app/main.py", "/app").writes


@pytest.mark.parametrize(
    "text",
    ['http.ListenAndServe(":80", nil)', "app.run(host='0.0.0.0', port=80)", "app.listen(80)"],
)
def test_each_port_pattern_still_finds_its_port(text: str) -> None:
    assert scan_source(text, "/app/main.py", "/app").ports == [80]


def test_a_write_to_a_computed_path_is_still_seen() -> None:
    assert scan_source("x = 1\nopen(name, 'w')\n", "/app/main.py", "/app").computed_line == 2


def test_a_source_naming_none_of_the_patterns_finds_nothing() -> None:
    found = scan_source("print('hello')\n", "/app/main.py", "/app")
    assert (found.writes, found.ports, found.computed_line) == ([], [], None)


@pytest.mark.parametrize(
    "text",
    [
        'DATA = Path(os.environ.get("DATA_DIR", "/app/data"))\nDATA.mkdir(parents=True)\n',
        'db = sqlite3.connect(settings.DB_PATH)\n',
        'os.makedirs(upload_dir, exist_ok=True)\n',
        'self.cache_dir.mkdir(exist_ok=True)\n',
        'report.write_text(body)\n',
        'marker.touch()\n',
    ],
)
def test_a_python_write_through_a_variable_is_a_computed_write(text: str) -> None:
    """(Found by running a split app: its data directory came from an environment variable,
    and the fix left it unwritable without saying it could not know.)"""
    found = scan_source("import os\n" + text, "/app/main.py", "/app")
    assert found.writes == [] and found.computed_line is not None


def test_a_literal_write_is_not_a_computed_one() -> None:
    found = scan_source('Path("/app/data").mkdir()\nfs.mkdir("/srv/up", cb)\n', "/app/a.py", "/app")
    assert found.computed_line is None
