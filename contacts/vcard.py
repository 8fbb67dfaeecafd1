"""vCard (.vcf) reading and writing: versions 3.0 (RFC 2426) and 4.0 (RFC 6350).

Pure functions, no database and no request: `parse_vcards` turns a file into one
`VCardResult` per card (the data, or a message saying why that card cannot be used), and
`contacts_to_vcard` writes contacts as a vCard file. The import service that creates
contacts from the results lives in `contacts/services_vcard.py`.

Reading is lenient, because real files come from phones, Apple, Google and Outlook: UTF-8
with or without BOM, UTF-16, Windows-1251 lines, CRLF/LF/CR, folded lines (also folds that
split a UTF-8 character), vCard 2.1 bare parameters and quoted-printable values. Writing
is strict: escaped values, CRLF, lines folded at 75 octets. Phone types are not stored, so the
writer types a mobile number (told by the number itself) "cell" and a landline "voice".
The import (contacts/services_vcard.py) creates the account an ORG names when none exists, and keeps
an unreadable number under "phone numbers to check". Known losses (issue 17, left open): phone/e-mail
types and labels and URL are not kept on import, the address is one text (written whole in the street
component), and a contact without a visible company is written `ORG:;<department>`.
"""

from __future__ import annotations

import codecs
import datetime
import quopri
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from crm.phones import is_mobile

MAX_BYTES = 10 * 1024 * 1024
MAX_CARDS = 10_000
VERSIONS = ("3.0", "4.0")
LINE_OCTETS = 75
# Every exported contact gets the same UID every time (uuid5 of this namespace + its pk),
# so a phone or address book that re-imports the file updates the card instead of duplicating it.
UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:crm:contacts:contact")
PRODID = "-//CRM//Contacts vCard export//EN"
# Google puts every contact in its system group "myContacts"; as a tag it would only add noise.
IGNORED_CATEGORIES = {"mycontacts"}
TAG_MAX_LENGTH = 50

_UNFOLD = re.compile(rb"(?:\r\n|\r|\n)[ \t]")
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_BEGIN_LINE = re.compile(rb"(?i)(?:^|[\r\n])[ \t]*BEGIN[ \t]*:[ \t]*VCARD[ \t]*(?=[\r\n]|$)")
# C0 controls other than tab and newline (and DEL) never belong in a contact; PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_PROPERTY_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_BARE_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}
_NO_PREFERENCE = 101  # 4.0 PREF runs from 1 (most preferred) to 100


class VCardError(ValueError):
    """The file as a whole cannot be read as vCard; nothing in it should be imported."""


@dataclass
class VCardContact:
    """What one card says about a person, as text; validation belongs to the import service."""

    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    full_name: str = ""
    prefix: str = ""
    suffix: str = ""
    organization: str = ""
    department: str = ""
    title: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    email_kinds: dict[str, str] = field(default_factory=dict)  # e-mail -> mobile/work/home/fax/other
    phone_kinds: dict[str, str] = field(default_factory=dict)  # the number as written -> kind
    website: str = ""
    birthday: datetime.date | None = None
    address: str = ""  # street lines of the preferred ADR, then any other address whole
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    note: str = ""
    tags: list[str] = field(default_factory=list)
    uid: str = ""

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)


@dataclass
class VCardResult:
    """One card of the file: its data, or the reason it cannot be imported, plus any warnings."""

    number: int  # 1-based position in the file
    contact: VCardContact | None = None
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    name: str = ""  # what the card calls itself, for messages; may be empty

    @property
    def ok(self) -> bool:
        return self.contact is not None and not self.error

    @property
    def label(self) -> str:
        if self.name:
            return _("Card %(number)d (%(name)s)") % {"number": self.number, "name": self.name}
        return _("Card %(number)d") % {"number": self.number}


@dataclass
class _Property:
    group: str
    name: str  # upper-case, without the group
    params: dict[str, list[str]]  # upper-case keys; TYPE values lower-case
    value: str  # raw: still escaped, quoted-printable already decoded

    @property
    def types(self) -> set[str]:
        return set(self.params.get("TYPE", []))

    @property
    def preference(self) -> int:
        """Sort key: 4.0 PREF=1..100, 3.0 TYPE=pref / 2.1 bare PREF count as 1, none as 101."""
        for raw in self.params.get("PREF", []):
            try:
                return max(1, min(int(raw), 100))
            except ValueError:
                return 1
        return 1 if "pref" in self.types else _NO_PREFERENCE


# --- Reading ---------------------------------------------------------------------


def parse_vcards(data: bytes) -> list[VCardResult]:
    """Every card of a .vcf file, in file order; one bad card never hides the others.

    Raises VCardError when the data is not a vCard file at all (empty, binary, no
    BEGIN:VCARD) or is larger than MAX_BYTES / holds more than MAX_CARDS cards.
    """
    if not data or not data.strip():
        raise VCardError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise VCardError(
            _("The file is larger than %(size)d MB. Split it into smaller files.") % {"size": MAX_BYTES // 2**20}
        )
    data = _to_ascii_compatible(data)
    if b"\x00" in data:
        raise VCardError(_("This is not a vCard (.vcf) file: it contains binary data."))
    card_count = len(_BEGIN_LINE.findall(data))
    if card_count == 0:
        raise VCardError(_("This is not a vCard (.vcf) file: it has no BEGIN:VCARD line."))
    if card_count > MAX_CARDS:
        raise VCardError(
            _("The file holds %(count)d cards; at most %(limit)d can be imported at once. Split it into smaller files.")
            % {"count": card_count, "limit": MAX_CARDS}
        )
    return [_card_result(number, lines, closed) for number, (lines, closed) in enumerate(_split_cards(data), start=1)]


def _to_ascii_compatible(data: bytes) -> bytes:
    """UTF-16 files (some Outlook exports) become UTF-8; every other encoding is decoded per line later."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :]
    encoding = None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(data) >= 2 and data[0] == 0 and data[1] != 0:
        encoding = "utf-16-be"
    elif len(data) >= 2 and data[1] == 0 and data[0] != 0:
        encoding = "utf-16-le"
    if encoding:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            return data  # not UTF-16 after all: the binary check rejects it
        return text.lstrip("\ufeff").encode("utf-8")
    return data


def _decode_line(raw: bytes) -> str:
    """UTF-8, else Windows-1251 (Russian/Ukrainian address books exported by older software)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1251", errors="replace")
    return text


def _split_cards(data: bytes) -> Iterable[tuple[list[str], bool]]:
    """(lines of one card without BEGIN/END, whether END:VCARD closed it) for each top-level card.

    Folded lines are joined on the bytes, before decoding, so that a fold which cut a
    UTF-8 character in two (some exporters count characters, not octets) still decodes.
    """
    lines = [_decode_line(raw) for raw in _LINE_BREAK.split(_UNFOLD.sub(b"", data))]
    current: list[str] | None = None
    depth = 0  # a vCard 2.1 AGENT may nest a whole card: skip it
    for line in lines:
        keyword = line.strip().upper().replace(" ", "")
        if keyword == "BEGIN:VCARD":
            if current is None:
                current = []
            elif current and _is_agent_opening(current[-1]):
                depth += 1
            else:
                yield current, False
                current = []
            continue
        if keyword == "END:VCARD" and current is not None:
            if depth:
                depth -= 1
                continue
            yield current, True
            current = None
            continue
        if current is not None and not depth:
            current.append(line)
    if current is not None:
        yield current, False


def _is_agent_opening(line: str) -> bool:
    prop = _parse_line(line)
    return prop is not None and prop.name == "AGENT" and not prop.value.strip()


def _parse_line(line: str) -> _Property | None:
    """`[group.]NAME *(;param[=value[,value]]) : value`, or None for a line that is none of that."""
    match = _PROPERTY_NAME.match(line.lstrip())
    if not match:
        return None
    line = line.lstrip()
    full_name = match.group(0)
    group, _dot, name = full_name.rpartition(".")
    params: dict[str, list[str]] = {}
    position = match.end()
    while position < len(line) and line[position] == ";":
        position, key, values = _parse_param(line, position + 1)
        if key:
            params.setdefault(key, []).extend(values)
    if position >= len(line) or line[position] != ":":
        return None
    return _Property(group=group, name=name.upper(), params=params, value=line[position + 1 :])


def _parse_param(line: str, position: int) -> tuple[int, str, list[str]]:
    """One parameter from `position`; returns where it ended (at `;`, `:` or the end)."""
    start = position
    while position < len(line) and line[position] not in "=;:":
        position += 1
    key = line[start:position].strip().upper()
    if position >= len(line) or line[position] != "=":
        return position, *_bare_param(key)
    position += 1
    values: list[str] = []
    current: list[str] = []
    quoted = False
    while position < len(line):
        char = line[position]
        if char == '"':
            quoted = not quoted
        elif not quoted and char in ";:":
            break
        elif not quoted and char == ",":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
        position += 1
    values.append("".join(current))
    values = [_decode_caret(value.strip()) for value in values]
    if key == "TYPE":
        values = [part.strip().lower() for value in values for part in value.split(",") if part.strip()]
    return position, key, values


def _bare_param(bare: str) -> tuple[str, list[str]]:
    """vCard 2.1 writes `TEL;WORK;VOICE:` and `NOTE;QUOTED-PRINTABLE:`: parameters without a name."""
    if not bare:
        return "", []
    if bare in _BARE_ENCODINGS:
        return "ENCODING", [bare]
    if bare == "PREF":
        return "TYPE", ["pref"]
    return "TYPE", [bare.lower()]


def _decode_caret(value: str) -> str:
    """RFC 6868: ^n is a newline, ^' a double quote, ^^ a caret, in parameter values."""
    if "^" not in value:
        return value
    return re.sub(r"\^(\^|n|N|')", lambda m: {"^": "^", "n": "\n", "N": "\n", "'": '"'}[m.group(1)], value)


def _properties(lines: list[str]) -> list[_Property]:
    """Parsed properties of one card, joining and decoding quoted-printable values (vCard 2.1)."""
    properties: list[_Property] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        prop = _parse_line(line)
        if prop is None:
            continue  # e.g. base64 lines of a 2.1 PHOTO; nothing we import
        encodings = {value.upper() for value in prop.params.get("ENCODING", [])}
        if "QUOTED-PRINTABLE" in encodings:
            value = prop.value
            while value.endswith("=") and index < len(lines):  # soft line break
                value = value[:-1] + lines[index].lstrip(" \t")
                index += 1
            # 2.1 semantics: the decoded text is the raw value (its `;` still separate components).
            prop.value = _decode_quoted_printable(value, prop.params.get("CHARSET", []))
        properties.append(prop)
    return properties


def _decode_quoted_printable(value: str, charsets: list[str]) -> str:
    raw = quopri.decodestring(value.encode("utf-8"))
    for charset in [*charsets, "utf-8"]:
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("cp1251", errors="replace")


def split_unescaped(value: str, separator: str) -> list[str]:
    """Split on `separator` where it is not escaped by a backslash; escapes stay for `unescape`."""
    parts, current, index = [], [], 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            current.append(value[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def unescape(value: str) -> str:
    r"""\n and \N are newlines; \\ \, \; \: the character itself; any other backslash stays as it is."""
    out, index = [], 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            following = value[index + 1]
            if following in "nN":
                out.append("\n")
            elif following in "\\,;:":
                out.append(following)
            else:
                out.append(char + following)
            index += 2
            continue
        out.append(char)
        index += 1
    return _clean("".join(out))


def _clean(text: str) -> str:
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _one_line(text: str) -> str:
    """Names and titles are single-line: collapse every run of whitespace, newlines included."""
    return " ".join(text.split())


def _structured(value: str) -> list[str]:
    return split_unescaped(value, ";")


def _list_component(component: str) -> str:
    """A structured component that may hold several values (`Philip,Paul`) as one string."""
    return _one_line(" ".join(unescape(part) for part in split_unescaped(component, ",")))


def _card_result(number: int, lines: list[str], closed: bool) -> VCardResult:
    result = VCardResult(number=number)
    try:
        properties = _properties(lines)
        contact = _contact_from(properties, result)
    except Exception as exc:  # noqa: BLE001 - one unreadable card must never stop the others
        result.error = _("%(card)s: could not be read (%(reason)s).") % {"card": result.label, "reason": exc}
        return result
    if not closed:
        result.error = _("%(card)s: the card is not closed with END:VCARD; the file may be cut off.") % {
            "card": result.label
        }
        return result
    kind = next((unescape(p.value).strip().lower() for p in properties if p.name == "KIND"), "individual")
    show_as = next((unescape(p.value).strip().upper() for p in properties if p.name == "X-ABSHOWAS"), "")
    if kind in {"org", "group", "location"} or show_as == "COMPANY":
        label = {"group": _("a group"), "location": _("a place")}.get(kind, _("a company"))
        result.error = _("%(card)s: this card describes %(kind)s, not a person; it was not imported.") % {
            "card": result.label, "kind": label,
        }
        return result
    if not contact.last_name:
        result.error = _("%(card)s: no name (the card has neither N nor FN).") % {"card": result.label}
        return result
    result.contact = contact
    return result


def _contact_from(properties: list[_Property], result: VCardResult) -> VCardContact:
    contact = VCardContact()
    by_name: dict[str, list[_Property]] = {}
    for prop in properties:
        by_name.setdefault(prop.name, []).append(prop)

    def first(name: str) -> _Property | None:
        found = by_name.get(name)
        return min(found, key=lambda p: p.preference) if found else None

    full_name = first("FN")
    contact.full_name = _one_line(unescape(full_name.value)) if full_name else ""
    _apply_name(contact, first("N"))
    result.name = contact.display_name or contact.full_name

    org = first("ORG")
    if org:
        units = [_one_line(unescape(unit)) for unit in _structured(org.value)]
        contact.organization = units[0] if units else ""
        contact.department = " / ".join(unit for unit in units[1:] if unit)
    title, role = first("TITLE"), first("ROLE")
    contact.title = _one_line(unescape((title or role).value)) if (title or role) else ""

    for prop in sorted(by_name.get("EMAIL", []), key=lambda p: p.preference):
        email = _one_line(unescape(prop.value)).removeprefix("mailto:")
        if email and email not in contact.emails:
            contact.emails.append(email)
            if kind := _kind(prop.types):
                contact.email_kinds[email] = kind
    for prop in sorted(by_name.get("TEL", []), key=lambda p: p.preference):
        phone = _phone_text(unescape(prop.value))
        if phone and phone not in contact.phones:
            contact.phones.append(phone)
            if kind := _kind(prop.types):
                contact.phone_kinds[phone] = kind
    for prop in sorted(by_name.get("URL", []), key=lambda p: p.preference):
        url = _one_line(unescape(prop.value))
        if url.lower().startswith(("http://", "https://")):
            contact.website = url
            break

    birthday = first("BDAY")
    if birthday:
        contact.birthday = _birthday(birthday, result)
    _apply_address(contact, by_name.get("ADR", []), by_name.get("LABEL", []))
    contact.note = "\n\n".join(text for text in (unescape(p.value).strip() for p in by_name.get("NOTE", [])) if text)
    contact.tags = _tags(by_name.get("CATEGORIES", []), result)
    uid = first("UID")
    contact.uid = unescape(uid.value).strip() if uid else ""
    return contact


def _apply_name(contact: VCardContact, name: _Property | None) -> None:
    """N gives the parts; without a family name in N, FN is split (first … middle … last)."""
    parts = [_list_component(component) for component in _structured(name.value)] if name else []
    parts += [""] * (5 - len(parts))
    family, given, additional, prefix, suffix = parts[:5]
    contact.prefix, contact.suffix = prefix, suffix
    if family:
        contact.first_name, contact.middle_name, contact.last_name = given, additional, family
        return
    words = contact.full_name.split()
    if prefix and words and words[0] == prefix:
        words = words[1:]
    if suffix and words and words[-1] == suffix:
        words = words[:-1]
    if len(words) >= 2:
        contact.first_name, contact.middle_name, contact.last_name = words[0], " ".join(words[1:-1]), words[-1]
    elif words:
        contact.last_name = words[0]
    elif given or additional:
        # A single name (N:;Madonna;;;): the model needs a last name, so it goes there.
        contact.last_name = _one_line(f"{given} {additional}")


def _phone_text(value: str) -> str:
    """`tel:+44-20-7946-0000;ext=12` (4.0 URI) or free text, to something a phone parser reads."""
    value = value.strip()
    if value.lower().startswith("tel:"):
        number, _sep, params = value[4:].partition(";")
        extension = next((p[4:] for p in params.split(";") if p.lower().startswith("ext=")), "")
        value = f"{number} ext. {extension}" if extension else number
    return _one_line(value)


_BDAY_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:T.*)?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:T.*)?$"),
)
_YEARLESS = re.compile(r"^--(?P<m>\d{2})-?(?P<d>\d{2})$")


def _birthday(prop: _Property, result: VCardResult) -> datetime.date | None:
    """YYYY-MM-DD or YYYYMMDD (optionally with a time); a date without a year is skipped."""
    text = unescape(prop.value).strip()
    if not text:
        return None
    omit_year = "X-APPLE-OMIT-YEAR" in prop.params  # Apple writes 1604-05-17 for "17 May"
    if _YEARLESS.match(text) or omit_year:
        result.warnings.append(
            _("%(card)s: the birthday “%(value)s” has no year and was skipped.") % {"card": result.label, "value": text}
        )
        return None
    for pattern in _BDAY_FORMATS:
        match = pattern.match(text)
        if match:
            try:
                return datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                break
    result.warnings.append(
        _("%(card)s: the birthday “%(value)s” is not a date this import understands and was skipped.")
        % {"card": result.label, "value": text}
    )
    return None


# vCard TYPE values -> what a number or address is for (contacts.models.PointKind); the first that matches wins.
_KINDS = (("cell", "mobile"), ("mobile", "mobile"), ("iphone", "mobile"), ("fax", "fax"), ("work", "work"),
          ("home", "home"))


def _kind(types: set[str]) -> str:
    return next((kind for type_, kind in _KINDS if type_ in types), "")


def _apply_address(contact: VCardContact, addresses: list[_Property], labels: list[_Property]) -> None:
    """The preferred ADR into the address fields (street lines, city, region, postcode, country); any
    other ADR follows the street lines as text, after a blank line. LABEL is read only if there is no ADR."""
    blocks = []
    for prop in sorted(addresses, key=lambda p: p.preference):
        components = [unescape(component).strip() for component in _structured(prop.value)]
        components += [""] * (7 - len(components))
        po_box, extended, street, locality, region, postal_code, country = components[:7]
        street_lines = [line for line in (street, extended, po_box) if line]
        if not blocks and any((*street_lines, locality, region, postal_code, country)):
            contact.city, contact.region = locality[:100], region[:100]
            contact.postal_code, contact.country = postal_code[:20], country[:100]
            blocks.append("\n".join(street_lines))
            continue
        town = ", ".join(part for part in (locality, region, postal_code) if part)
        lines = [line for line in (*street_lines, town, country) if line]
        if lines:
            blocks.append("\n".join(lines))
    if not blocks:
        blocks = [text for text in (unescape(p.value).strip() for p in labels) if text]
    unique = []
    for block in blocks:
        if block not in unique:
            unique.append(block)
    contact.address = "\n\n".join(block for block in unique if block)


def _tags(categories: list[_Property], result: VCardResult) -> list[str]:
    tags: list[str] = []
    for prop in categories:
        for raw in split_unescaped(prop.value, ","):
            tag = _one_line(unescape(raw))
            if not tag or tag.lower() in IGNORED_CATEGORIES:
                continue
            if len(tag) > TAG_MAX_LENGTH:
                result.warnings.append(
                    _("%(card)s: the category “%(tag)s” was shortened to %(limit)d characters.")
                    % {"card": result.label, "tag": tag, "limit": TAG_MAX_LENGTH}
                )
                tag = tag[:TAG_MAX_LENGTH].rstrip()
            if tag.lower() not in {existing.lower() for existing in tags}:
                tags.append(tag)
    return tags


# --- Writing ---------------------------------------------------------------------


def contact_uid(pk: int) -> str:
    return f"urn:uuid:{uuid.uuid5(UID_NAMESPACE, str(pk))}"


def escape_text(value: str) -> str:
    r"""A TEXT value: backslash, comma, semicolon and newline escaped (RFC 6350 §3.4)."""
    value = _clean(value or "")
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a UTF-8 character.

    Continuation lines start with one space, which counts towards their 75 octets.
    """
    if len(line.encode("utf-8")) <= LINE_OCTETS:
        return line
    chunks, current, size, limit = [], [], 0, LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            chunks.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1
        current.append(char)
        size += width
    chunks.append("".join(current))
    return "\r\n ".join(chunks)


def contacts_to_vcard(contacts: Iterable, version: str = "4.0", *,
                      account_names: Mapping[int, str] | None = None) -> str:
    """The contacts as one vCard file (CRLF line endings, folded, escaped).

    `account_names` maps account ids to the names the reader may see; when given, a
    contact whose account is not in it is written without a company name (views pass
    the accounts visible to the user). Without it, `contact.account.name` is used.
    """
    if version not in VERSIONS:
        raise ValueError(f"vCard version must be one of {VERSIONS}, not {version!r}")
    lines: list[str] = []
    for contact in contacts:
        lines.extend(_card_lines(contact, version, account_names))
    return "".join(fold(line) + "\r\n" for line in lines)


# Our kinds -> vCard TYPE values (RFC 6350 §6.4.1 and §6.4.2).
_PHONE_TYPES = {"mobile": "cell", "work": "work", "home": "home", "fax": "fax", "other": "voice"}
_EMAIL_TYPES = {"work": "work", "home": "home"}


def _card_lines(contact, version: str, account_names: Mapping[int, str] | None) -> list[str]:
    v4 = version == "4.0"
    lines = ["BEGIN:VCARD", f"VERSION:{version}", f"PRODID:{PRODID}"]
    if contact.pk is not None:
        lines.append(f"UID:{contact_uid(contact.pk)}")
    names = (contact.last_name, contact.first_name, contact.middle_name, "", "")
    lines.append("N:" + ";".join(escape_text(part) for part in names))
    full_name = contact.compose_full_name() or contact.last_name or (contact.emails[0] if contact.emails else "")
    lines.append("FN:" + escape_text(full_name))

    if account_names is None:
        company = contact.account.name if contact.account_id else ""
    else:
        company = account_names.get(contact.account_id, "") if contact.account_id else ""
    if company:  # a department without a company would be an ORG with an empty name
        units = [company] + ([contact.department] if contact.department else [])
        lines.append("ORG:" + ";".join(escape_text(unit) for unit in units))
    if contact.title:
        lines.append("TITLE:" + escape_text(contact.title))

    email_kinds = getattr(contact, "email_kinds", None) or {}
    for index, email in enumerate(contact.emails or []):
        kind = _EMAIL_TYPES.get(email_kinds.get(email, ""), "")
        if v4:
            params = (f";TYPE={kind}" if kind else "") + (";PREF=1" if index == 0 else "")
        else:
            params = ";TYPE=" + ",".join(["internet", *([kind] if kind else []), *(["pref"] if index == 0 else [])])
        lines.append(f"EMAIL{params}:" + escape_text(email))
    phone_kinds = getattr(contact, "phone_kinds", None) or {}
    for index, phone in enumerate(contact.phones or []):
        # A number without a stated kind that is a mobile (read from the number itself) is typed "cell",
        # so address books file it as a mobile instead of calling every number "voice".
        kind = _PHONE_TYPES.get(phone_kinds.get(phone, ""), "") or ("cell" if is_mobile(phone) else "")
        if v4:
            # A URI value: not TEXT, so no escaping; E.164 has only "+" and digits anyway.
            lines.append("TEL;VALUE=uri" + (f";TYPE={kind}" if kind else "") + (";PREF=1:" if index == 0 else ":")
                         + f"tel:{phone}")
        else:
            lines.append(f"TEL;TYPE={kind or 'voice'}" + (",pref:" if index == 0 else ":") + escape_text(phone))
    if getattr(contact, "website", ""):
        lines.append("URL:" + escape_text(contact.website))

    if contact.birthday:
        day = contact.birthday
        stamp = f"{day.year:04d}{day.month:02d}{day.day:02d}" if v4 else f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
        lines.append(f"BDAY:{stamp}")
    parts = [getattr(contact, name, "") or "" for name in ("city", "region", "postal_code", "country")]
    if contact.address.strip() or any(parts):
        # Street lines in the street component (newlines kept), then city, region, postcode and country.
        lines.append("ADR:;;" + ";".join(escape_text(part.strip()) for part in [contact.address, *parts]))
    if contact.description:
        lines.append("NOTE:" + escape_text(contact.description))
    if contact.tags:
        lines.append("CATEGORIES:" + ",".join(escape_text(tag) for tag in contact.tags))
    revised = timezone.localtime(contact.updated_at or timezone.now(), datetime.UTC)
    lines.append("REV:" + (revised.strftime("%Y%m%dT%H%M%SZ") if v4 else revised.strftime("%Y-%m-%dT%H:%M:%SZ")))
    lines.append("END:VCARD")
    return lines
