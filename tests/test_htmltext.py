"""Feed HTML to plain text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.htmltext import _simple_text, _TextExtractor, clean_text, html_to_text


def test_paragraphs_breaks_and_entities() -> None:
    html = "<p>Kim Jong&nbsp;Un met&#8230; <b>envoys</b> &amp; aides.</p><p>Second<br>line</p>"
    assert html_to_text(html) == "Kim Jong Un met… envoys & aides.\n\nSecond\nline"


def test_script_style_and_other_non_text_content_is_dropped() -> None:
    html = ("<div>Before<script>alert('x')</script><style>p{color:red}</style>"
            "<noscript>enable js</noscript><template><p>hidden</p></template>"
            "<iframe src='https://ads.example'>frame</iframe>"
            "<form action='https://evil.example'><input type=password>Log in</form>"
            "<svg><text>chart</text></svg>After</div>")
    assert html_to_text(html) == "BeforeAfter"


def test_whitespace_collapses_and_lists_become_lines() -> None:
    html = "<ul>\n  <li>one\n   two</li>\n<li>three</li></ul>\n\n\n<h2>Heading</h2>text"
    assert html_to_text(html) == "one two\n\nthree\n\nHeading\n\ntext"


def test_control_characters_are_removed_and_images_leave_their_alt_text() -> None:
    assert html_to_text("a\x00b\x07c<img src='x.jpg' alt='Pyongyang skyline'>d") == (
        "abc Pyongyang skyline d")


def test_plain_text_passes_through_and_broken_markup_keeps_its_text() -> None:
    assert html_to_text("just text, 3 < 4") == "just text, 3 < 4"
    assert html_to_text("Para one &amp; more.\n\nPara two.") == "Para one & more.\n\nPara two."
    assert html_to_text("<p>unclosed <b>bold <i>text") == "unclosed bold text"
    assert html_to_text("<scr<script>ipt>x</script>y").endswith("y")


def test_deep_nesting_is_fine() -> None:
    html = "<div>" * 100_000 + "deep" + "</div>" * 100_000
    assert html_to_text(html) == "deep"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/&;#!-=\"' abcpdivscript\x00\n"))) | st.text())
def test_never_raises(text: str) -> None:
    result = html_to_text(text)
    assert isinstance(result, str) and "\x00" not in result


PIECES = ["<p>", "</p>", "<br>", "<br/>", "<img alt='a &amp; b' src=x>", '<img src="y" alt="q"/>',
          "<td>", "</td>", "<b>", "</b>", '<a href="x">', "</a>", "text", "two words", "&amp;",
          "&#169;", "\n", " ", "<", "<!-- c -->", "<script>", "</script>", "<iframe/>",
          "<P CLASS=x>", "</DIV >", "<o:p>", "<x y='>'>", "'", '"', "<div\n>", "&", "<li>",
          "</h2>", "<p title=\"a'b\">", "</br>", "<p/>", "&am", "p;", "&#", "1;", "x27;",
          "\x01", "\x03", "<img alt='x\ny'>", "<img alt='&lt;b&gt;'>", "<img alt='&amp;amp;'>",
          "<img alt=''>", "\u2028", "\r\n", "&nbsp;", '<IMG SRC="a" ALT="Up"/>',
          "<img alt='x' alt='y'>", '<img alt = "spaced" >', '<img src=x alt="u">',
          '<img alt="  pad  "/>', '<img data-x="1" alt="d"/>', "<img/>", "\xa0", "\t"]


def test_plain_feed_markup_takes_the_fast_path() -> None:
    html = '<p>Kim &amp; Putin</p><img src="x.jpg" alt="Kim"/><p>Talks <a href="/m">more</a></p>'
    fast = _simple_text(html, markup=True)
    assert fast is not None
    assert clean_text(fast) == html_to_text(html) == "Kim & Putin\n\nKim\n\nTalks more"


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_the_fast_path_reads_markup_exactly_as_the_tokenizer(pieces: list[str]) -> None:
    html = "".join(pieces)
    fast = _simple_text(html, markup=True)
    if fast is not None:  # None: unusual markup, left to the tokenizer
        slow = _TextExtractor(markup=True)
        slow.feed(html)
        slow.close()
        assert clean_text(fast) == clean_text("".join(slow.parts))
