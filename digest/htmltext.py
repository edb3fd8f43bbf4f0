"""Feed HTML to plain text: the only form in which feed content travels further.

Built on the stdlib ``html.parser`` (a tolerant tokenizer, no tree, no recursion), so
nesting depth costs nothing and malformed markup still yields its text. Content of
script/style/template/iframe/form/svg… is dropped; block elements become line breaks;
entities are decoded; runs of whitespace collapse; control characters are removed.
``html_to_text`` never raises.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

# Elements whose content is never text for a reader.
SKIPPED = frozenset({
    "script", "style", "noscript", "template", "iframe", "form", "svg", "math", "object",
    "embed", "select", "textarea", "button", "head", "title", "canvas", "audio", "video",
})
# Elements that start a new paragraph.
BLOCKS = frozenset({
    "p", "div", "section", "article", "aside", "header", "footer", "nav", "main",
    "blockquote", "pre", "figure", "figcaption", "table", "thead", "tbody", "tfoot", "tr",
    "ul", "ol", "dl", "dd", "dt", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address",
    "details", "summary", "center", "body", "html",
})
LINE_BREAKS = frozenset({"br"})
CELLS = frozenset({"td", "th"})

# C0/C1 control characters except tab and newline, plus other invisible troublemakers:
# bidi embeddings, overrides and isolates (U+202A-E, U+2066-9) would let a headline
# display reversed ("\u202egnp.exe" shows as "exe.png") and spill into what follows it.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                         "\ufeff\ufffe\uffff]")
_PARAGRAPH = "\n\n"
_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]*>")
_NEWLINES_RE = re.compile(r"[\r\n]+")


class _TextExtractor(HTMLParser):
    def __init__(self, *, markup: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.markup = markup  # in real HTML a newline is just a space; in text it is a break
        self.parts: list[str] = []
        self.skip_depth = 0  # > 0 inside a skipped element (counted, not recursed)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skip_depth += 1
        elif self.skip_depth:
            return
        elif tag in BLOCKS:
            self.parts.append(_PARAGRAPH)
        elif tag in LINE_BREAKS:
            self.parts.append("\n")
        elif tag in CELLS:
            self.parts.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and alt.strip():
                self.parts.append(f" {alt.strip()} ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            return  # <iframe/>: nothing to skip
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            if self.skip_depth:
                self.skip_depth -= 1
        elif not self.skip_depth and tag in BLOCKS:
            self.parts.append(_PARAGRAPH)
        elif not self.skip_depth and tag in CELLS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.parts.append(_NEWLINES_RE.sub(" ", data) if self.markup else data)


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML fragment (or a whole page); never raises."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return clean_text(html)
    markup = _TAG_RE.search(html) is not None
    text = _simple_text(html, markup=markup)
    if text is not None:
        return clean_text(text)
    parser = _TextExtractor(markup=markup)
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError, IndexError):  # pragma: no cover - tokenizer corner cases
        return clean_text(unescape(re.sub(r"<[^>]*>?", " ", html)))
    return clean_text("".join(parser.parts))


# The fast path marks what each tag leaves behind with control characters, which no
# decoded entity can produce (html.unescape drops them) and clean_text would remove anyway:
_BLOCK_MARK, _BREAK_MARK, _INLINE_MARK = "\x01", "\x02", "\x03"
_MARKS = (_BLOCK_MARK, _BREAK_MARK, _INLINE_MARK)
_ANY_TAG_RE = re.compile(r"<[^<>]*>")
_START_TAG_RE = re.compile(r"<([a-zA-Z][^\t\n\r\f />\x00]*)([^<>]*)>\Z")
_END_TAG_RE = re.compile(r"</([a-zA-Z][^\t\n\r\f />\x00]*)\s*>\Z")
_tag_marks: dict[str, str | None] = {}  # tag as written: its mark (feeds repeat their tags)


def _simple_text(html: str, *, markup: bool) -> str | None:
    """The text of plain, well-formed markup (feed bodies nearly always are), read with
    one regex substitution instead of the tokenizer: several times faster, the same result.
    None for anything unusual (comments, CDATA, a stray "<", quotes that could hide a ">",
    skipped elements), which then goes through ``_TextExtractor``.

    Tags become marks first and entities are decoded after: an inline tag's mark keeps
    "&am<b>p;" from joining into an entity, as the tokenizer does."""
    if any(mark in html for mark in _MARKS):
        return None
    unusual = False

    def mark(match: re.Match[str]) -> str:
        nonlocal unusual
        tag = match.group()
        found = _tag_marks.get(tag, "")
        if found == "":
            found = _tag_mark(tag)
            if len(_tag_marks) > 4096:
                _tag_marks.clear()
            _tag_marks[tag] = found
        if found is None:
            unusual = True
            return tag
        return found

    text = _ANY_TAG_RE.sub(mark, html)
    if unusual or "<" in text:
        return None
    text = unescape(text)
    if markup and ("\n" in text or "\r" in text):
        text = _NEWLINES_RE.sub(" ", text)
    return (text.replace(_INLINE_MARK, "").replace(_BLOCK_MARK, _PARAGRAPH)
            .replace(_BREAK_MARK, "\n"))


def _tag_mark(tag: str) -> str | None:
    """What one tag leaves in the text (a mark, a space, an image's alt text), or None
    when the tag is unusual."""
    if tag.startswith("</"):
        end = _END_TAG_RE.match(tag)
        if end is None:
            return None
        name = end.group(1).lower()
        if name in SKIPPED:
            return None
        return _BLOCK_MARK if name in BLOCKS else " " if name in CELLS else _INLINE_MARK
    start = _START_TAG_RE.match(tag)
    if start is None or tag.count('"') % 2 or tag.count("'") % 2:
        return None
    name = start.group(1).lower()
    if name in SKIPPED:
        return _INLINE_MARK if tag.endswith("/>") else None  # <iframe/>: nothing to skip
    if name in BLOCKS:
        return _BLOCK_MARK
    if name in LINE_BREAKS:
        return _BREAK_MARK
    if name in CELLS:
        return " "
    if name == "img":
        alt = _image_alt(tag)
        # decoded once already: another "&", a line break or a "<" would be read again
        if any(char in alt for char in "&\n\r<") or any(m in alt for m in _MARKS):
            return None
        return alt or _INLINE_MARK
    return _INLINE_MARK


# An <img> whose attributes are all name="value" or name='value', with nothing to decode:
# read with a regex. Anything else goes through the stdlib's attribute rules.
_HTML_SPACE = "[ \t\n\r\f]"
_PLAIN_ATTR = (rf"([a-zA-Z_:][-a-zA-Z0-9_:.]*){_HTML_SPACE}*={_HTML_SPACE}*"
               r"""(?:"([^"&<>]*)"|'([^'&<>]*)')""")
_PLAIN_IMG_RE = re.compile(rf"<[iI][mM][gG]((?:{_HTML_SPACE}+{_PLAIN_ATTR})*){_HTML_SPACE}*/?>\Z")
_PLAIN_ATTR_RE = re.compile(_PLAIN_ATTR)


def _image_alt(tag: str) -> str:
    """What an <img> tag leaves in the text: its alt text with a space either side."""
    plain = _PLAIN_IMG_RE.match(tag)
    if plain is None:
        extractor = _TextExtractor(markup=False)
        extractor.feed(tag)
        extractor.close()
        return "".join(extractor.parts)
    alt = None
    for name, double, single in _PLAIN_ATTR_RE.findall(plain.group(1)):
        if name.lower() == "alt":  # the last one counts, as in the stdlib's parser
            alt = double or single
    return f" {alt.strip()} " if alt and alt.strip() else ""


def clean_text(text: str) -> str:
    """Drop control characters, collapse whitespace within lines, keep at most one blank
    line between paragraphs, trim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", _PARAGRAPH)
    # str.split() collapses a line's whitespace runs and trims it about 4x faster than
    # a regex (this runs for every field of every feed entry)
    lines: list[str] = []
    blank = False  # a blank line is pending: written only between two lines with text
    for line in text.split("\n"):
        # isprintable() is False for every character _CONTROL_RE removes and every space
        # but " " (and for a few harmless others): most lines are clean already
        if line.isprintable():
            if "  " in line or line[:1] == " " or line[-1:] == " ":
                line = " ".join(line.split())
        else:
            line = " ".join(_CONTROL_RE.sub("", line).split())
        if not line:
            blank = bool(lines)
            continue
        if blank:
            lines.append("")
            blank = False
        lines.append(line)
    return "\n".join(lines)


def one_line(text: str) -> str:
    """``clean_text`` folded onto one line (titles, authors)."""
    return " ".join(clean_text(text).split())
