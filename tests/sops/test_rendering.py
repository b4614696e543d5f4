"""Markdown bodies render to HTML with nothing active in it, whatever was written; diffs of two bodies."""

import html
from html.parser import HTMLParser

import pytest

from apps.sops.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, diff_lines, render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>alert(1)//<</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="https://ok.example/a.png" onerror="alert(1)" srcset="javascript:alert(1)">',
    "<svg onload=alert(1)><circle r=1></svg>",
    "<svg><script>alert(1)</script></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<p onclick="alert(1)" onmouseover="alert(2)">hi</p>',
    "<details open ontoggle=alert(1)>x</details>",
    "<body onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<form action="https://evil.example"><input type="submit" formaction="javascript:alert(1)"></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](javascript&#58;alert(1))",
    "[x][1]\n\n[1]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![img](javascript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    '<a href="https://ok.example" target="_blank" onfocus="alert(1)" autofocus>ok</a>',
    "<!-- <script>alert(1)</script> -->",
    "<template><script>alert(1)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<textarea><script>alert(1)</script></textarea>",
    '<table><tr><td background="javascript:alert(1)">x</td></tr></table>',
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
    '<a href="https://ok.example/" id="evil" class="x" name="y">named</a>',
    "*<em onmouseover=alert(1)>x</em>*",
    '<button onclick="alert(1)">press</button><input onfocus=alert(1) autofocus>',
    '<video><source onerror="alert(1)"></video><audio src=x onerror=alert(1)>',
    "<marquee onstart=alert(1)>x</marquee>",
    '<object type="text/x-scriptlet" data="https://evil.example/x.sct"></object>',
]

SAFE_SCHEMES = {"http", "https", "mailto"}


class Inspector(HTMLParser):
    """Collects every tag and attribute of the rendered HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.urls = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            self.attributes.append((tag, name))
            if name in {"href", "src"}:
                self.urls.append(value or "")

    handle_startendtag = handle_starttag


def inspect(rendered: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(rendered)
    inspector.close()
    return inspector


def url_scheme(url: str) -> str | None:
    cleaned = "".join(ch for ch in html.unescape(url) if ch.isprintable() and not ch.isspace()).lower()
    head, sep, _ = cleaned.partition(":")
    if not sep or "/" in head or "?" in head or "#" in head:
        return None  # relative
    return head


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_markdown_renders_with_no_active_content(body):
    rendered = str(render_markdown(body))
    found = inspect(rendered)

    assert set(found.tags) <= ALLOWED_TAGS, found.tags
    for tag, name in found.attributes:
        assert name in ALLOWED_ATTRIBUTES.get(tag, set()) or (tag == "a" and name == "rel"), (tag, name)
        assert not name.startswith("on")
    for url in found.urls:
        assert url_scheme(url) in SAFE_SCHEMES | {None}, url
    lowered = rendered.lower()
    assert "<script" not in lowered and "<iframe" not in lowered and "<svg" not in lowered
    assert "javascript:" not in html.unescape(lowered).replace(" ", "")


def test_the_hostile_code_sample_stays_visible_as_text():
    rendered = str(render_markdown("```html\n<script>alert(1)</script>\n```"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


def test_ordinary_markdown_keeps_its_structure():
    body = (
        "# Invoice approval\n\n"
        "Check **every** line.\n\n"
        "1. Open the invoice\n2. Compare with the [PO](https://portal.example/po/1)\n\n"
        "| check | limit |\n|---|---|\n| price | 1 % |\n\n"
        "Mail <mailto:ap@example.com> or see [the list](/admin/sops/)."
    )
    rendered = str(render_markdown(body))
    assert "<h1>Invoice approval</h1>" in rendered
    assert "<strong>every</strong>" in rendered
    assert "<ol>" in rendered and "<table>" in rendered and "<td>price</td>" in rendered
    assert 'href="https://portal.example/po/1"' in rendered
    assert 'rel="noopener noreferrer nofollow"' in rendered
    assert 'href="/admin/sops/"' in rendered


def test_an_empty_body_renders_to_nothing():
    assert str(render_markdown("")) == ""


def test_diff_lines_mark_added_removed_and_context():
    lines = diff_lines("a\nb\nc\n", "a\nB\nc\nd\n")
    kinds = [(line.kind, line.text) for line in lines]
    assert kinds[0][0] == "hunk"
    assert ("removed", "b") in kinds and ("added", "B") in kinds and ("added", "d") in kinds
    assert ("context", "a") in kinds


def test_diff_keeps_lines_that_look_like_headers():
    lines = diff_lines("--- rule\n", "++ plus\n")
    assert [(line.kind, line.text) for line in lines if line.kind != "hunk"] == [
        ("removed", "--- rule"),
        ("added", "++ plus"),
    ]


def test_identical_bodies_have_no_diff():
    assert diff_lines("same\n", "same\n") == []
