"""The rich-text allow-list (crm/richtext.py): formatting stays, anything that could run or load is
removed, and plain text is escaped and given paragraphs. Each line of the allow-list that protects
a reader has a payload here that would get through without it."""

import pytest

from crm import richtext

FORMATTED = ('<h2>Сброс пароля</h2><p>Нажмите <strong>«Забыли пароль?»</strong>, затем:</p>'
             '<ol start="2"><li>откройте письмо</li><li><a href="https://help.example.com/x">ссылку</a></li></ol>'
             '<table><tr><th scope="col">Код</th></tr><tr><td><code>E-42</code></td></tr></table>')


def test_allowed_formatting_is_kept():
    html = richtext.clean(FORMATTED)
    for kept in ["<h2>Сброс пароля</h2>", "<strong>«Забыли пароль?»</strong>", '<ol start="2">', "<code>E-42</code>",
                 '<th scope="col">']:
        assert kept in html
    assert 'href="https://help.example.com/x"' in html and 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize("payload, gone", [
    ("<script>alert(1)</script>Text", ["<script", "alert(1)"]),
    ('<img src=x onerror="alert(1)">', ["<img", "onerror"]),
    ('<p onclick="alert(1)" style="position:fixed">x</p>', ["onclick", "style="]),
    ('<a href="javascript:alert(1)">x</a>', ["javascript:"]),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', ["data:"]),
    ('<iframe src="https://evil.example/"></iframe>', ["<iframe", "evil.example"]),
    ("<style>body{display:none}</style>", ["<style", "display:none"]),
    ('<svg><script>alert(1)</script></svg>', ["<svg", "alert(1)"]),
    ("<!-- <script>alert(1)</script> -->", ["<!--", "alert"]),
    ('<form action="https://evil.example/"><input name="password"></form>', ["<form", "<input"]),
])
def test_anything_that_could_run_or_load_is_removed(payload, gone):
    for shown in (richtext.clean(payload), str(richtext.render(payload))):
        for fragment in gone:
            assert fragment not in shown, (payload, shown)


def test_plain_text_is_escaped_and_given_paragraphs_and_links():
    html = str(richtext.render("Первая строка <не тег\n\nСм. https://help.example.com"))
    assert html.startswith("<p>Первая строка &lt;не тег</p>")
    assert '<a href="https://help.example.com"' in html


def test_plain_gives_the_words_for_an_email_or_a_reply():
    text = richtext.plain(FORMATTED + "<script>alert(1)</script>")
    assert text.startswith("Сброс пароля\nНажмите «Забыли пароль?», затем:")
    assert "<" not in text and "alert" not in text
    assert richtext.plain("no markup & <3") == "no markup & <3"
