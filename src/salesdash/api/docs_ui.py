"""The interactive docs (Swagger UI at /api/docs) served from this process: no CDN, works offline.

The Swagger UI files come from the pinned ``flask-swagger-ui`` package (its ``dist`` folder) and are served under
``/api/docs/assets/``. The page's one inline bootstrap script is allowed by its SHA-256 in the page's
Content-Security-Policy (computed from the page actually sent), so no other inline script can run.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import flask_swagger_ui
from apiflask import APIFlask
from flask import Blueprint, Response

ASSETS_URL = "/api/docs/assets"
STATIC_ENDPOINT = "docs_assets.static"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
ASSETS_MAX_AGE = 86400  # the files change only with the pinned package version


def assets_dir() -> Path:
    return Path(flask_swagger_ui.__file__).parent / "dist"


def docs_csp(html: str) -> str:
    """The CSP of the docs page: scripts from this origin plus exactly the inline scripts in ``html``."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(html)
    )
    return (
        "default-src 'none'; "
        f"script-src 'self' {hashes}; "
        # Swagger UI sets style attributes from JavaScript; styles cannot run code
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def setup(app: APIFlask) -> None:
    assets = Blueprint("docs_assets", __name__, static_folder=str(assets_dir()), static_url_path=ASSETS_URL)
    app.register_blueprint(assets)
    app.config.update(
        SWAGGER_UI_CSS=f"{ASSETS_URL}/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS=f"{ASSETS_URL}/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS=f"{ASSETS_URL}/swagger-ui-standalone-preset.js",
        DOCS_FAVICON=f"{ASSETS_URL}/favicon-32x32.png",
        SEND_FILE_MAX_AGE_DEFAULT=ASSETS_MAX_AGE,
    )


def secure_docs_page(response: Response) -> Response:
    """Set the hash-based CSP on the docs page (called from the app's after_request)."""
    if response.mimetype == "text/html" and response.status_code == 200:
        response.headers["Content-Security-Policy"] = docs_csp(response.get_data(as_text=True))
    return response
