"""The review page at /review: plain HTML, CSS and a little JavaScript, served from the package.

The files hold no data, so they are served without credentials; every action of the page is a
/v1 call carrying the key the reviewer types in (kept in the tab's sessionStorage). A strict
Content-Security-Policy allows scripts, styles and requests only from this server, and the
page sets note text with `textContent` only, so a note cannot inject markup.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-cache",
}
FILES = {
    "/review": ("review.html", "text/html; charset=utf-8"),
    "/review/review.js": ("review.js", "text/javascript; charset=utf-8"),
    "/review/review.css": ("review.css", "text/css; charset=utf-8"),
}

page = APIRouter(include_in_schema=False)


def _load(name: str) -> bytes:
    return (resources.files("phiguard.serve") / "static" / name).read_bytes()


def _serve(name: str, media_type: str) -> Response:
    return Response(_load(name), media_type=media_type, headers=HEADERS)


@page.get("/review")
async def review_html() -> Response:
    return _serve(*FILES["/review"])


@page.get("/review/review.js")
async def review_js() -> Response:
    return _serve(*FILES["/review/review.js"])


@page.get("/review/review.css")
async def review_css() -> Response:
    return _serve(*FILES["/review/review.css"])
