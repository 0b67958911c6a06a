"""Bytes of a text file to ``str``, whatever the encoding a French writer's tools used.

UTF-8 (with or without BOM) comes first, then UTF-16/32 with a BOM, or UTF-16 without
one (one zero byte in two). Otherwise the file was saved in a legacy encoding:
charset_normalizer alone often takes a short French text for cp1250 or mac_greek,
so the Western encodings French text comes in (cp1252, ISO 8859-15, Mac Roman) are
tried first, keeping the one whose accented characters look French; charset_normalizer
detects anything else. A text no encoding reads cleanly is refused with a message
naming the file.

>>> decode_text("Été à Besançon".encode("cp1252"), "a.txt")
'Été à Besançon'
>>> decode_text("Été à Besançon".encode("mac_roman"), "a.txt")
'Été à Besançon'
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata

from charset_normalizer import from_bytes

from rag.errors import DocumentError

log = logging.getLogger(__name__)

_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Legacy encodings of French text, in order of preference when they read it equally well.
WESTERN_ENCODINGS = ("cp1252", "iso8859_15", "mac_roman")
# Non-ASCII characters French text is made of: its letters, quotes, dashes, spaces, signs.
_FRENCH_CHARS = frozenset(
    "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ"
    "’‘“”«»‹›„…–—•·€£°§©®™±×½¼¾²³µ"
    "\u00a0\u202f\u2009"  # no-break, narrow no-break and thin spaces
)
MIN_FRENCH_SHARE = 0.9  # of the non-ASCII characters, for a Western encoding to be trusted
MAX_CHAOS = 0.1  # charset_normalizer's "mess" ratio above which its guess is not trusted
MAX_CONTROL_SHARE = 0.01  # control characters above this share: not text
CONTROL_SAMPLE_CHARS = 65_536  # the share is measured on the first characters
_DECLARED_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252"}
_DECLARED_CHARSET = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)


def decode_text(raw: bytes, name: str, *, declared: str | None = None) -> str:
    """Decode ``raw``, the bytes of file ``name``; ``declared`` is the charset the file states, if any.

    Raises :class:`DocumentError` naming the file when the bytes are not text, or
    when no encoding reads them with confidence.
    """
    text = _decode_with_bom(raw, name)
    if text is None and b"\x00" in raw:
        text = _decode_utf16_without_bom(raw, name)
    if text is None:
        text = _decode_utf8(raw)
    if text is None and declared:
        text = _decode_declared(raw, declared)
    if text is None:
        text = _decode_western(raw, name)
    if text is None:
        text = _decode_detected(raw, name)
    if _control_share(text) > MAX_CONTROL_SHARE:
        raise DocumentError(f"{name} : fichier binaire, ignoré.")
    return text


def declared_charset(head: bytes) -> str | None:
    """The charset an HTML or XML head declares (``<meta charset="...">``, ``encoding="..."``), if any.

    >>> declared_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">')
    'ISO-8859-1'
    """
    match = _DECLARED_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _decode_with_bom(raw: bytes, name: str) -> str | None:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError as error:
                label = encoding.upper().removesuffix("-SIG")
                raise DocumentError(
                    f"{name} : texte {label} illisible (octet invalide à la position {error.start}), fichier ignoré."
                ) from None
    return None


def _decode_utf16_without_bom(raw: bytes, name: str) -> str | None:
    """UTF-16 with no BOM has a zero byte in almost every pair (Latin text); any other NUL means binary."""
    if len(raw) % 2 == 0:
        even, odd = raw[0::2], raw[1::2]
        pairs = len(odd)
        for zeros, others, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
            if zeros.count(0) >= 0.7 * pairs and others.count(0) <= 0.05 * pairs:
                try:
                    return raw.decode(encoding)
                except UnicodeDecodeError:
                    break
    raise DocumentError(f"{name} : fichier binaire, ignoré.")


def _decode_utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decode_declared(raw: bytes, declared: str) -> str | None:
    """The declared charset, as browsers read it: "ISO-8859-1" means windows-1252."""
    encoding = _DECLARED_ALIASES.get(declared.lower(), declared)
    try:
        codecs.lookup(encoding)
        return raw.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def _french_share(text: str) -> float:
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii:
        return 1.0
    return sum(c in _FRENCH_CHARS for c in non_ascii) / len(non_ascii)


def _decode_western(raw: bytes, name: str) -> str | None:
    """The Western decoding whose non-ASCII characters are the most French, if French enough."""
    best, best_share = None, 0.0
    for encoding in WESTERN_ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        share = _french_share(text)
        if share > best_share:
            best, best_share = (text, encoding), share
    if best is None or best_share < MIN_FRENCH_SHARE:
        return None
    log.info("%s: decoded as %s (%.0f%% of accented characters French)", name, best[1], 100 * best_share)
    return best[0]


def _decode_detected(raw: bytes, name: str) -> str:
    match = from_bytes(raw).best()
    if match is None or match.chaos > MAX_CHAOS:
        raise DocumentError(f"{name} : encodage non reconnu (ni UTF-8 ni un encodage courant), fichier ignoré.")
    log.info("%s: decoded as %s (detected)", name, match.encoding)
    return str(match)


def _control_share(text: str) -> float:
    sample = text[:CONTROL_SAMPLE_CHARS]
    if not sample:
        return 0.0
    controls = sum(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v\x1a" for c in sample)
    return controls / len(sample)
