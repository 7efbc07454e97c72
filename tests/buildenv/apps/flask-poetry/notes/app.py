from pathlib import Path

import yaml
from flask import Flask, render_template

app = Flask(__name__)
SETTINGS = yaml.safe_load((Path(__file__).resolve().parent.parent / "settings.yaml").read_text())


@app.route("/")
def index():
    return render_template("index.html", title=SETTINGS["title"], notes=SETTINGS["notes"])
