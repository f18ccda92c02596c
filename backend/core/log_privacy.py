"""Keep personal data out of log output: one filter on every handler of the backend, the worker and
the card service.

Code logs masked values already (``mask_phone``); this is the net under the lines it does not write
itself: an unexpected exception's message and traceback, a library's error. The filter masks, in the
formatted message and in the exception and stack text:

- mobile numbers (11 digits from ``13``-``19``, also written ``138 1234 5678`` or ``138-1234-5678``, also
  right after ``+86``, ``86`` or ``0086``) as the product masks them: ``138****5678``;
- resident ID numbers: 18 characters (17 digits, then a digit or X in either case, check character
  right or not) as ``1101**********002X``, and the first generation's 15 digits (with a birth date's
  month and day in digits 9-12) as ``1101*******1002``. An 18-digit unified social credit code (its
  check characters right, an ID number's wrong) is a unit's, not a person's: it stays;
- the values the database layer quotes in its errors (tortoise's field validators, PostgreSQL's
  ``DETAIL`` lines and input errors): a name's pinyin in a too-long column, a duplicate key's value.

A number is masked only when it stands alone: digits inside a longer run (a 20-digit order number, a
serial) are left as they are, while a Latin letter beside it does not hide it (a hex hash holding
such a run is masked too: privacy first); right after an escape (``\\n``, ``\\u673a``, ``\\xba``) or
a URL's ``%BA`` it stands alone. Names in free text cannot be recognised; code must not log them.

:func:`install` puts the filter on every handler attached at that moment; the start-up of each
process calls it once its logging is configured (``python -m backend``, ``python -m jobs`` and
``python -m card_service`` after ``basicConfig``, :func:`backend.app.create_app` after Sanic configured
its loggers, the worker's start-up after arq's). The card service imports this module on its own, so
it stays on the standard library and :mod:`backend.core.identifiers`.
"""

from __future__ import annotations

import logging
import re
import threading

from backend.core.identifiers import mask_id_number, mask_phone, valid_credit_code, valid_id_number

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# A phone or an ID number standing alone: no digit right before or after it, except the last digit
# of an escape or a URL's percent-encoding before it (what stays text there). A Latin letter does not
# hide a number ("TEL13812345678"): a hex hash holding such a run is masked too, the lesser harm. The
# look-ahead first makes every other character fail on one test: the filter runs on every line.
_NUMBER = re.compile(
    r"(?=[+0-9])(?:(?<![0-9])|(?<=\\[nrt])|(?<=\\u[0-9A-Fa-f]{4})|(?<=\\x[0-9A-Fa-f]{2})|(?<=%[0-9A-Fa-f]{2}))"
    r"(?:(?P<cc>(?:\+|00)?86)?(?P<phone>1[3-9][0-9](?P<sep>[ -]?)[0-9]{4}(?P=sep)[0-9]{4})"
    r"|(?P<id>[0-9]{17}[0-9Xx]|[1-9][0-9]{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}))"
    r"(?![0-9])"
)
# Database-layer messages that quote a value: (what stays, the value, what stays).
_QUOTED_VALUES = (
    # tortoise's validators: "name_pinyin: Length of 'zhangsan...' 401 > 400", "Value '...' does not match regex"
    re.compile(r"(Length of ')([\s\S]*?)(' \d+ [<>] \d+)"),
    re.compile(r"(Value ')([\s\S]*?)(' does not match regex)"),
    # PostgreSQL (asyncpg puts DETAIL into the message): "Key (phone_index)=(...) already exists."
    re.compile(r"(Key \((?:[^()\n]|\([^()\n]*\))*\)=\()([^\n]*)(\))"),
    re.compile(r"(Failing row contains \()([^\n]*)(\))"),
    re.compile(r"(invalid input (?:syntax|value) for (?:type |enum )?[^:\n]*: \")([^\n]*)(\")"),
    # asyncpg's argument errors, and Python's int("...") (the rest of the line is the value)
    re.compile(r"(invalid input for query argument \$\d+: )([^\n]*)()"),
    re.compile(r"(invalid literal for \w+\(\) with base \d+: )([^\n]*)()"),
)


def _mask_number(match: re.Match[str]) -> str:
    if phone := match["phone"]:
        if sep := match["sep"]:
            phone = phone.replace(sep, "")
        return (match["cc"] or "") + mask_phone(phone)
    number = match["id"]
    if len(number) == 18 and valid_credit_code(number) and not valid_id_number(number):
        return number
    return mask_id_number(number)


def mask(text: str) -> str:
    """``text`` with phones, ID numbers and quoted database values masked (unchanged when it has none)."""
    for pattern in _QUOTED_VALUES:
        text = pattern.sub(r"\1***\3", text)
    return _NUMBER.sub(_mask_number, text)


class PersonalDataFilter(logging.Filter):
    """Masks a record's message, exception text and stack text; never drops a record.

    The record is changed in place, so every later handler (and formatter) sees the masked text. A
    record with nothing to mask is left exactly as it was.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format call: logging would print its arguments raw to stderr
            record.msg, record.args = mask(f"{record.msg} % {record.args!r}"), None
        else:
            if (masked := mask(message)) != message:
                record.msg, record.args = masked, None
        exc_text = record.exc_text
        if not exc_text and record.exc_info and record.exc_info[0] is not None:
            exc_text = self._formatter.formatException(record.exc_info)
        if exc_text and (masked_exc := mask(exc_text)) != exc_text:
            # The formatter uses exc_text as it stands; without exc_info none can render the original.
            record.exc_text, record.exc_info = masked_exc, None
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


_FILTER = PersonalDataFilter()


def install() -> None:
    """Put the filter on every handler attached to a logger now, and on logging's last resort (what
    prints warnings when no handler is configured). Safe to call again."""
    loggers = [logging.getLogger()]
    loggers += [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    handlers = [handler for lg in loggers for handler in lg.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(_FILTER)


def _log_thread_error(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    logging.getLogger("threading").error("uncaught error in thread %s", name, exc_info=exc_info)


def log_uncaught() -> None:
    """Send an uncaught error of a thread through logging (masked) instead of Python's own print to
    stderr, which no filter sees: for a program whose work runs on threads (the card service)."""
    threading.excepthook = _log_thread_error


def configure(level: int = logging.INFO) -> None:
    """A command's logging: one stderr handler on the root logger (if none yet), masked."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    install()
