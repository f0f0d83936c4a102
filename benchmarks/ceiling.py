"""The ceiling for benchmarks/load.py: the smallest Flask app that answers with the bytes of
the page under test, held in memory. Nothing a real page could do faster under the same server.

    CEILING_BODY=page.html CEILING_TYPE='text/html; charset=utf-8' gunicorn ceiling:app
"""

import os

from flask import Flask, Response

BODY = open(os.environ["CEILING_BODY"], "rb").read()
TYPE = os.environ.get("CEILING_TYPE", "text/html; charset=utf-8")

app = Flask(__name__)


@app.get("/")
def page() -> Response:
    return Response(BODY, content_type=TYPE)
