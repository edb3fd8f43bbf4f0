"""URLs from untrusted feeds: which ones may become links, and one canonical form per article.

``safe_url`` is the gate: only absolute ``http``/``https`` URLs with a host pass (relative
ones are resolved first), so ``javascript:``, ``data:``, ``file:`` and friends never become
an href. ``canonical_url`` folds the variants one story's URL takes in different feeds
(scheme, host case, tracking parameters, fragment, trailing slash) into one string that the
store uses to recognise cross-feed duplicates. It is a key, not a link: never fetch it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

WEB_SCHEMES = frozenset({"http", "https"})

# Query parameters that only say where a click came from.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "referrer", "cmpid", "ncid",
    "_hsenc", "_hsmi", "mkt_tok", "ocid", "smid", "sr_share", "ito", "spm",
    "s_cid", "wt.mc_id", "ftag", "rss", "cmp", "sref",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "__twitter")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = frozenset({chr(code) for code in range(0x20)} | {"\x7f"})


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)


def safe_url(url: str | None, base: str | None = None) -> str | None:
    """``url`` resolved against ``base`` if it is then an http(s) URL, else None.

    Surrounding whitespace is stripped; a URL with whitespace or control characters inside
    the host part, or one that cannot be parsed, is refused.
    """
    if not url:
        return None
    url = url.strip()
    if not url or any(char in _CONTROL for char in url):
        # urljoin would silently drop tabs/newlines ("java\nscript:"): refuse instead
        return None
    try:
        resolved = urljoin(base, url) if base else url
        parts = urlsplit(resolved)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return None
    return resolved.replace(" ", "%20")


def canonical_url(url: str | None) -> str | None:
    """The form of ``url`` used to recognise the same article in several feeds, or None.

    Lowercase scheme and host, ``http`` counts as ``https``, default port, fragment,
    tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``mc_cid`` …) and a trailing
    slash dropped; the remaining query parameters are kept in order.
    """
    safe = safe_url(url)
    if safe is None:
        return None
    parts = urlsplit(safe)
    host = (parts.hostname or "").rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    netloc = host
    scheme = parts.scheme.lower()
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key)
    ]
    path = parts.path.rstrip("/")
    return urlunsplit(("https", netloc, path, urlencode(query, doseq=True), ""))


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)
