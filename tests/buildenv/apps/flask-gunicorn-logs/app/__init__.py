"""The microblog shape: the app factory sets up a rotating log file under logs/."""

import logging
import os
from logging.handlers import RotatingFileHandler

from flask import Flask


def create_app():
    app = Flask(__name__)
    if not os.environ.get("LOG_TO_STDOUT"):
        if not os.path.exists("logs"):
            os.mkdir("logs")
        file_handler = RotatingFileHandler("logs/microblog.log", maxBytes=10240, backupCount=10)
        file_handler.setLevel(logging.INFO)
        app.logger.addHandler(file_handler)
    app.logger.setLevel(logging.INFO)
    app.logger.info("Microblog startup")

    @app.route("/")
    def index():
        app.logger.info("index served")
        return "microblog\n"

    return app
