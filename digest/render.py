"""Jinja2 templates to subject, plain text and HTML (CSS inlined). Autoescape by extension."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from digest.models import Digest, RenderedMail


class Renderer:
    """Bundled templates, overridden file by file by ``templates_dir`` when given."""

    def __init__(self, *, templates_dir: Path | None, timezone: ZoneInfo) -> None:
        raise NotImplementedError

    def render_digest(self, digest: Digest) -> RenderedMail:
        raise NotImplementedError
