"""A mailing message's bytes, written directly.

Django's `EmailMessage.message()` builds a message with the standard library's modern e-mail API, which
parses again every header it is given: about 4 ms a message on this machine, more than rendering,
sending and recording it together (docs/benchmarks.md, "Mail throughput"). A mailing message has one
shape: headers we wrote ourselves, a UTF-8 text part and perhaps an HTML alternative. So the SMTP
sender writes those bytes here, in the layout Django gives them (8bit parts, base64 for a line longer
than SMTP allows); any other message (an attachment, a non-ASCII address) goes through Django.
marketing/tests/test_mime.py checks that the standard library reads back from these bytes the same
headers and parts as from Django's.
"""

import base64
import email.policy
import uuid
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage

MAX_LINE = 998  # octets per line (RFC 5322)
CRLF = "\r\n"


def as_bytes(message: EmailMessage) -> bytes:
    """The message as Django's SMTP backend would send it."""
    if not simple(message):
        return message.message(policy=email.policy.SMTP).as_bytes()
    headers = {
        "From": _address(message.extra_headers.get("From", message.from_email)),
        "To": ", ".join(_address(address) for address in message.to),
        "Subject": message.subject,
        "Date": message.extra_headers.get("Date") or formatdate(localtime=settings.EMAIL_USE_LOCALTIME),
        **{name: value for name, value in message.extra_headers.items() if name not in {"From", "To", "Date"}},
    }
    text = _part("plain", message.body)
    alternatives = [_part("html", content) for content, _mimetype in _alternatives(message)]
    if not alternatives:
        return _join(["MIME-Version: 1.0", *_lines(headers), *text]).encode()
    boundary = f"=_mailing_{uuid.uuid4().hex}"
    lines = ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', *_lines(headers), ""]
    for part in (text, *alternatives):
        lines += [f"--{boundary}", *part, ""]  # the line break before a boundary belongs to the boundary
    lines.append(f"--{boundary}--")
    return _join(lines).encode()


def simple(message: EmailMessage) -> bool:
    """A message of the shape written here: no attachment, no alternative but HTML, ASCII addresses."""
    addresses = [message.extra_headers.get("From", message.from_email), *message.to]
    return (not message.attachments and not message.cc and not message.reply_to
            and all(mimetype == "text/html" for _content, mimetype in _alternatives(message))
            and all(parseaddr(address)[1].isascii() for address in addresses))


def _alternatives(message: EmailMessage) -> list:
    return list(getattr(message, "alternatives", ()))  # an EmailMultiAlternatives' (content, mimetype) pairs


def envelope(address: str) -> str:
    """The bare address for SMTP's MAIL FROM / RCPT TO (of a message `simple` accepted)."""
    bare = parseaddr(address)[1]
    if not bare or any(character in bare for character in "\r\n <>"):
        raise ValueError(f"not an e-mail address: {address!r}")
    return bare


def _address(value: str) -> str:
    """"Name <address>", the name RFC 2047-encoded when it is not ASCII."""
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8")


def _encoded(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8", maxlinelen=76).encode(linesep=CRLF)


def _lines(headers: dict[str, str]) -> list[str]:
    lines = []
    for name, value in headers.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"the {name} header may not contain a line break")
        lines.append(f"{name}: {_encoded(value)}")
    return lines


def _part(subtype: str, content: str) -> list[str]:
    """A text part's header lines, the blank line and its body: 8bit when every line fits, else base64."""
    body = content.replace("\r\n", "\n").replace("\r", "\n")
    if not body.endswith("\n"):
        body += "\n"
    head = f'Content-Type: text/{subtype}; charset="utf-8"'
    if all(len(line.encode()) <= MAX_LINE for line in body.splitlines()):
        return [head, "Content-Transfer-Encoding: 8bit", "", body.removesuffix("\n").replace("\n", CRLF)]
    encoded = base64.encodebytes(body.replace("\n", CRLF).encode()).decode().removesuffix("\n").replace("\n", CRLF)
    return [head, "Content-Transfer-Encoding: base64", "", encoded]


def _join(lines: list[str]) -> str:
    return CRLF.join(lines) + CRLF
