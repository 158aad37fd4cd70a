"""Secret redaction for everything that leaves the machine.

Line-based and conservative: it prefers hiding a harmless literal to sending a key. What it hides:

* string literals bound to names that sound secret (``*key*``, ``*secret*``, ``*token*``, ``*password*``,
  ``*passwd*``, ``*pwd*``, ``*credential*``, ``*salt*``): assignments, annotated assignments,
  keyword arguments, comparisons, dict entries (``"api_key": "..."``) and env defaults
  (``getenv("API_TOKEN", "...")``);
* ``.env``-style ``NAME=value`` lines whose name sounds secret, quoted or not;
* ``Bearer``/``Basic``/``Token`` credentials in headers;
* well-known key shapes anywhere (OpenAI ``sk-``, AWS ``AKIA``/``ASIA``, GitHub ``ghp_``/``github_pat_``,
  Slack ``xox?-``, Google ``AIza``, JWTs, PEM private keys);
* the password part of ``scheme://user:password@host`` URLs.
"""

from __future__ import annotations

import re

REDACTED = "***REDACTED***"

_SENSITIVE = re.compile(r"key|secret|token|passw(?:or)?d|pwd|credential|salt", re.IGNORECASE)
# names that contain a sensitive word but never hold a secret
_HARMLESS = re.compile(
    r"^(?:foreign_?key|primary_?key|sort_?key|key_?func|keyfunc|tokeni[sz]er|token_?type|token_?url"
    r"|.*_(?:url|uri|endpoint|path|header|header_name|type|prefix|name|field|column|len|length|count))$",
    re.IGNORECASE,
)

# a string literal: optional prefix (not f: interpolations are code, not literal secrets), quote, body, same quote
_LITERAL = r"""(?P<prefix>[rRbBuU]{0,2})(?P<q>\"\"\"|'''|"|')(?P<val>(?:\\.|(?!(?P=q)).)*?)(?P=q)"""

_ASSIGN = re.compile(
    r"(?P<name>\b[A-Za-z_][\w.]*)(?P<op>\s*(?::\s*[^=\n]+?)?\s*(?:==|!=|:=|(?<![=!<>])=(?!=))\s*)" + _LITERAL
)
_KEYED = re.compile(r"""(?P<kq>["'])(?P<name>[\w.-]+)(?P=kq)(?P<op>\s*[:,]\s*)""" + _LITERAL)
# NAME=value with an upper-case name and no spaces around "=": the .env convention, not Python style
_DOTENV = re.compile(r"^(?P<lead>\s*(?:export\s+)?)(?P<name>[A-Z][A-Z0-9_]*)(?P<op>=)(?P<val>\S.*?)\s*$")
_AUTH_SCHEME = re.compile(r"\b(?P<scheme>Bearer|Basic|Token)(?P<sp>\s+)(?P<cred>[A-Za-z0-9\-._~+/]{8,}=*)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/\s'\"@]*:)(?P<pw>[^@/\s'\"]+)(?P<at>@)")
_SHAPES = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:[^'\"\n]*?-----END [A-Z ]*PRIVATE KEY-----|[^'\"\n]*)"
    r"|\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"
    r"|\bAIza[0-9A-Za-z_-]{30,}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
)


def is_sensitive_name(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return bool(_SENSITIVE.search(last)) and not _HARMLESS.match(last)


def _literal(m: re.Match[str]) -> str:
    return f"{m.group('prefix')}{m.group('q')}{REDACTED}{m.group('q')}"


def _replace_named(m: re.Match[str]) -> str:
    if not is_sensitive_name(m.group("name")) or not m.group("val") or m.group("val") == REDACTED:
        return m.group(0)
    head = m.group(0)[: m.start("prefix") - m.start(0)]
    return head + _literal(m)


def _replace_dotenv(m: re.Match[str]) -> str:
    value = m.group("val")
    if not is_sensitive_name(m.group("name")) or REDACTED in value:
        return m.group(0)
    if value[:1] in "\"'([{" or "(" in value or "[" in value:
        return m.group(0)  # Python: a literal the literal rule handles, or a call/subscript expression
    return f"{m.group('lead')}{m.group('name')}={REDACTED}"


def redact_line(line: str) -> str:
    line = _SHAPES.sub(REDACTED, line)
    line = _ASSIGN.sub(_replace_named, line)
    line = _KEYED.sub(_replace_named, line)
    line = _DOTENV.sub(_replace_dotenv, line)
    line = _AUTH_SCHEME.sub(lambda m: f"{m.group('scheme')}{m.group('sp')}{REDACTED}", line)
    line = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}{m.group('at')}", line)
    return line


def redact(text: str) -> str:
    """``text`` with secrets replaced by ``***REDACTED***``; line structure is kept."""
    text = _multiline_private_keys(text)
    return "\n".join(redact_line(line) for line in text.split("\n"))


_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL)


def _multiline_private_keys(text: str) -> str:
    # keep the line count (excerpts are numbered) while blanking the key body
    return _PEM_BLOCK.sub(lambda m: "\n".join([REDACTED] * (m.group(0).count("\n") + 1)), text)


def redact_lines(lines: list[str]) -> list[str]:
    """Redact a block of source lines, keeping one output line per input line."""
    out = redact("\n".join(lines)).split("\n")
    assert len(out) == len(lines)
    return out
