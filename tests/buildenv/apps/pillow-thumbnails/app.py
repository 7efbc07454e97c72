import io

from flask import Flask, render_template
from PIL import Image, features

app = Flask(__name__)


@app.route("/")
def index():
    # Encoding a JPEG needs the libjpeg that Pillow was compiled against.
    image = Image.new("RGB", (640, 480), (200, 80, 40))
    image.thumbnail((128, 128))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    assert features.check("jpg")
    return render_template("index.html", size=len(out.getvalue()))
