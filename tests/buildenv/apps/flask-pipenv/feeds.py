from pathlib import Path

from flask import Flask
from lxml import etree

app = Flask(__name__)
FEED = etree.parse(str(Path(__file__).with_name("sample.xml")))


@app.route("/")
def index():
    titles = FEED.xpath("//item/title/text()")
    return f"feeds ok: {len(titles)} items, first: {titles[0]}\n"
