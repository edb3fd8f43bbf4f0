"""URLs from untrusted feeds: which ones may become links, and one canonical form per article.

``safe_url`` is the gate: only absolute ``http``/``https`` URLs with a host pass (relative
ones are resolved first), so ``javascript:``, ``data:``, ``file:`` and friends never become
an href. ``canonical_url`` folds the variants one story's URL takes in different feeds
(scheme, host case, tracking parameters, fragment, trailing slash) into one string that the
store uses to recognise cross-feed duplicates. It is a key, not a link: never fetch it.
"""

from __future__ import annotations

import re
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
# Never inside a URL we show or fetch: C0/C1 controls, line separators, the bidi
# embeddings/overrides/isolates that make "…/\u202egnp.exe" display as "…/exe.png", and
# the characters RFC 3986 never allows unencoded where they could end an attribute.
_REFUSED = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff<>"`\\\\]')


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host and nothing hidden in it."""
    return safe_url(url) == url.strip()


def safe_url(url: str | None, base: str | None = None) -> str | None:
    """``url`` resolved against ``base`` if it is then an http(s) URL, else None.

    Surrounding whitespace is stripped and inner spaces encoded; a URL with control or
    bidi characters, quotes or angle brackets, a space in its host, a bad port, or one
    that cannot be parsed, is refused.
    """
    if not url:
        return None
    url = url.strip()
    if not url or _REFUSED.search(url):
        # urljoin would silently drop tabs/newlines ("java\nscript:"): refuse instead
        return None
    try:
        resolved = urljoin(base, url) if base else url
        parts = urlsplit(resolved)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname or " " in parts.netloc:
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
