import os
import sqlite3
from pathlib import Path

from fastapi import FastAPI
from lxml import etree

DATA = Path(os.environ.get("DATA_DIR", "/app/data"))
DATA.mkdir(parents=True, exist_ok=True)
db = sqlite3.connect(DATA / "feeds.db", check_same_thread=False)
db.execute("CREATE TABLE IF NOT EXISTS hit (path TEXT)")
app = FastAPI()


@app.get("/")
def index() -> dict[str, object]:
    db.execute("INSERT INTO hit VALUES ('/')")
    db.commit()
    root = etree.fromstring(b"<rss><channel><title>dockfix</title></channel></rss>")
    count = db.execute("SELECT count(*) FROM hit").fetchone()[0]
    return {"title": root.findtext("channel/title"), "hits": count}
