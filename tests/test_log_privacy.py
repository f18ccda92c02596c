"""Phones, ID numbers and database-quoted values never reach the log output (backend/core/log_privacy.py).

Each test attaches a handler to the root logger as ``basicConfig`` would, then goes through the
start-up that installs the filter (the app, the worker, the command lines) and reads what was written.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from sanic import Request, Sanic
from tortoise.exceptions import IntegrityError

from backend.__main__ import main as backend_main
from backend.app import create_app
from backend.core import identifiers, log_privacy, sms_delivery
from backend.core.config import Settings
from backend.units.models import Unit
from card_service import __main__ as card_service_main
from card_service.card import CardInserted, ReaderAdded
from card_service.presenter import Presenter
from jobs import worker as jobs_worker
from jobs.__main__ import main as jobs_main
from tests import conftest
from tests.card_service.fakes import ATR, READER, make_rig

# arq's Worker.close() calls redis-py's deprecated close(); nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

PHONE = "13812345678"
MASKED_PHONE = "138****5678"
ID_NUMBER = "11010519491231002X"
MASKED_ID_NUMBER = "1101**********002X"
PINYIN = "zhangsanfeng"
ROOT = Path(__file__).resolve().parents[1]

log = logging.getLogger("tests.log_privacy")


def _all_handlers() -> list[logging.Handler]:
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = [h for lg in loggers if isinstance(lg, logging.Logger) for h in lg.handlers]
    return [*handlers, logging.lastResort] if logging.lastResort else handlers


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What the process's root handler writes (one attached as ``basicConfig`` does). The filters the
    test's start-up puts on pytest's own handlers are taken off again afterwards."""
    before = {handler: list(handler.filters) for handler in _all_handlers()}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(log_privacy.LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for known, filters in before.items():
            known.filters[:] = filters


@asynccontextmanager
async def serving(app: Sanic) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on its own socket, like the session's server, and a client of it."""
    app.config.TOUCHUP = False  # Sanic rewrites its class's methods once per process, for the first app
    app.config.OAS = False  # sanic-ext's API document is one per process: the session server's stays
    async with conftest.serving(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield http


async def test_an_unexpected_error_s_500_logs_its_traceback_without_the_id_number_or_the_phone(
    settings: Settings, output: io.StringIO, caplog: pytest.LogCaptureFixture
):
    app = create_app(settings, manage_services=False, name="cunwu_log_privacy_500")

    @app.get("/boom")
    async def boom(request: Request) -> None:
        raise RuntimeError(f"no holder for {ID_NUMBER} (phone {PHONE})")

    async with serving(app) as http:
        answer = await http.get("/boom")
    assert answer.status_code == 500 and answer.json()["error"]["code"] == "internal_error"
    text = output.getvalue()
    assert "unhandled error on GET /boom" in text and "Traceback" in text
    assert f"RuntimeError: no holder for {MASKED_ID_NUMBER} (phone {MASKED_PHONE})" in text
    for where in (text, caplog.text):  # every handler sees the masked record, pytest's too
        assert ID_NUMBER not in where and PHONE not in where


async def test_a_database_layer_error_s_500_logs_no_quoted_value(settings: Settings, output: io.StringIO):
    app = create_app(settings, manage_services=False, name="cunwu_log_privacy_db")

    @app.get("/too-long")
    async def too_long(request: Request) -> None:
        await Unit.filter(id=1).update(name_pinyin=PINYIN * 40)  # tortoise quotes the value it refuses

    async with serving(app) as http:
        assert (await http.get("/too-long")).status_code == 500
    text = output.getvalue()
    assert "ValidationError: name_pinyin: Length of '***' 480 > 400" in text
    assert PINYIN not in text


async def test_sanic_s_own_error_log_is_masked(settings: Settings, output: io.StringIO):
    create_app(settings, manage_services=False, name="cunwu_log_privacy_sanic")
    [handler] = logging.getLogger("sanic.error").handlers  # made by Sanic when the app was created
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        logging.getLogger("sanic.error").error("Exception occurred while handling uri: /api/x?phone=%s", PHONE)
    finally:
        handler.setStream(previous)
    assert f"phone={MASKED_PHONE}" in stream.getvalue() and PHONE not in stream.getvalue()


async def test_a_failing_job_s_error_in_the_worker_log_holds_neither(
    settings: Settings, output: io.StringIO, monkeypatch: pytest.MonkeyPatch
):
    async def refused(message_id: int) -> None:
        raise RuntimeError(f"gateway refused {PHONE}, holder {ID_NUMBER}")

    monkeypatch.setattr(sms_delivery, "deliver", refused)
    await sms_delivery.enqueue(7)
    worker = jobs_worker.build(settings, embedded=True, burst=True, schedule=False, poll_delay=0.05)
    try:
        await worker.async_run()
    finally:
        await worker.close()
        await sms_delivery.close_queue()
    text = output.getvalue()
    assert "sms:7:0:sms_deliver failed" in text and "Traceback" in text
    assert f"RuntimeError: gateway refused {MASKED_PHONE}, holder {MASKED_ID_NUMBER}" in text
    assert PHONE not in text and ID_NUMBER not in text


@pytest.mark.parametrize(
    ("main", "argv", "status"),
    [(backend_main, ["demo", "accounts"], 0), (jobs_main, ["worker"], 2)],  # the worker without REDIS_URL: 2
    ids=["python -m backend", "python -m jobs"],
)
def test_the_command_lines_mask_what_they_log(
    main, argv: list[str], status: int, output: io.StringIO, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    assert main(argv) == status
    try:
        raise ValueError(f"bad row {ID_NUMBER}")
    except ValueError:
        log.exception("command failed for %s", PHONE)
    text = output.getvalue()
    assert f"command failed for {MASKED_PHONE}" in text and f"ValueError: bad row {MASKED_ID_NUMBER}" in text
    assert PHONE not in text and ID_NUMBER not in text


def test_a_line_without_personal_data_is_left_exactly_as_it_was(output: io.StringIO):
    log_privacy.install()
    seen: list[logging.LogRecord] = []
    keep = logging.Handler()
    keep.emit = seen.append  # type: ignore[method-assign]
    log.addHandler(keep)
    try:
        try:
            raise KeyError("verification_code")
        except KeyError:
            log.error("sms %s (%s) given up after attempt %d: %s", 42, "account_created", 3, "expired", exc_info=True)
    finally:
        log.removeHandler(keep)
    [record] = seen
    assert record.msg == "sms %s (%s) given up after attempt %d: %s"
    assert record.args == (42, "account_created", 3, "expired") and record.exc_info is not None
    plain = logging.Formatter(log_privacy.LOG_FORMAT).format(record)
    assert output.getvalue() == plain + "\n"


def test_a_broken_log_call_is_written_masked_not_reported_raw(output: io.StringIO, capsys: pytest.CaptureFixture):
    log_privacy.install()
    log.error("holder %s of %s", PHONE)  # one argument short: logging would print it raw to stderr
    assert f"holder %s of %s % ('{MASKED_PHONE}',)" in output.getvalue()
    assert PHONE not in output.getvalue() + capsys.readouterr().err


def test_a_postgresql_duplicate_key_logs_no_value(output: io.StringIO):
    log_privacy.install()
    detail = asyncpg.exceptions.UniqueViolationError.new(
        {
            "C": "23505",
            "M": 'duplicate key value violates unique constraint "uid_account_phone"',
            "D": f"Key (lower(username), phone)=({PINYIN}, {PHONE}) already exists.",
        }
    )
    try:
        raise IntegrityError(detail)  # as tortoise's asyncpg client wraps it
    except IntegrityError:
        log.exception("unhandled error on POST /api/accounts")
    text = output.getvalue()
    assert "DETAIL:  Key (lower(username), phone)=(***) already exists." in text
    assert PINYIN not in text and PHONE not in text


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (f"手机{PHONE}。", f"手机{MASKED_PHONE}。"),
        (f"to +86{PHONE}", f"to +86{MASKED_PHONE}"),
        (f"id={ID_NUMBER.lower()}", f"id={MASKED_ID_NUMBER[:-1]}x"),
        (f"pair {PHONE},{ID_NUMBER}", f"pair {MASKED_PHONE},{MASKED_ID_NUMBER}"),
        (f"already masked {MASKED_PHONE} {MASKED_ID_NUMBER}", None),
        ("order 13812345678901234567", None),  # 20 digits: an order number, not a phone
        ("serial 2433:3138123456781", None),  # 13 digits, a phone's digits inside
        ("trace 1381234567890123456", None),  # 19 digits
        ("region 530102001001, at 1718000000, ms 1718000000123", None),
        # E.164 without the +; after another country's 00 prefix the run is 15 digits, not a phone
        (f"86{PHONE} and 0044{PHONE}", f"86{MASKED_PHONE} and 0044{PHONE}"),
        ("fixed line 0871-65150432", None),
    ],
)
def test_only_numbers_standing_alone_are_masked(line: str, masked: str | None):
    assert log_privacy.mask(line) == (masked or line)


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("手机 138 1234 5678。", "手机 138****5678。"),
        ("phone=138-1234-5678&x=1", "phone=138****5678&x=1"),
        ("to +86 138 1234 5678", "to +86 138****5678"),
        ("to +86-138-1234-5678", "to +86-138****5678"),
        ("to 0086 138 1234 5678, 0086-13812345678", "to 0086 138****5678, 0086-138****5678"),
        ("to +8613812345678 or 8613812345678", "to +86138****5678 or 86138****5678"),
        ("to 008613812345678", "to 0086138****5678"),
        # the same numbers escaped or encoded right after a character: still standing alone
        ("phone=%2B8613812345678", "phone=%2B86138****5678"),
        ("q=%E6%89%8B%E6%9C%BA13812345678", "q=%E6%89%8B%E6%9C%BA138****5678"),
        ("'备注\\n13812345678'", "'备注\\n138****5678'"),
        (
            '{"text": "\\u624b\\u673a13812345678, \\u572813812345678"}',
            '{"text": "\\u624b\\u673a138****5678, \\u5728138****5678"}',
        ),
        ("b'\\xe6\\x9c\\xba13812345678'", "b'\\xe6\\x9c\\xba138****5678'"),
    ],
)
def test_mobile_numbers_written_with_spaces_dashes_or_a_country_code_are_masked(line: str, masked: str):
    assert log_privacy.mask(line) == masked


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("身份证110105491231002。", "身份证1101*******1002。"),
        ("id=110105491231002, holder 110105195003070022", "id=1101*******1002, holder 1101**********0022"),
        ("ids [530102800229001]", "ids [5301*******9001]"),
    ],
)
def test_first_generation_15_digit_id_numbers_are_masked(line: str, masked: str):
    assert log_privacy.mask(line) == masked


@pytest.mark.parametrize(
    "code",
    [
        "915301021000000328",  # a company's code, digits only
        "91530102100000358X",
        "935301021000000247",  # a farmers' co-op's
        "93530102100000163x",  # written in lower case
        "545301011000000084",  # a villagers' committee's
    ],
)
def test_unified_social_credit_codes_of_digits_are_not_taken_for_id_numbers(code: str):
    assert identifiers.valid_credit_code(code) and not identifiers.valid_id_number(code)
    line = f"unit 42 (credit code {code}) created"
    assert log_privacy.mask(line) == line


@pytest.mark.parametrize(
    "line",
    [
        "2024-05-01 13:45:12,345 INFO sanic.access: 127.0.0.1:53122 GET /api/units 200 1834",
        "at 1718000000.123456, ms 1718000000123, us 1718000000123456, ns 1718000000123456789",
        "took 0.138 s (13812 ms), 150 rows, 1024 bytes, attempt 3 of 5, next try in 1380 s",
        "region 130102001001 and 530102001001, units 13, 1381, 13812",
        "order 100000000000000 (15 digits, no birth date), trace 1381234567890123456",
        "listening on [::1]:13812 and 127.0.0.1:8000, redis 127.0.0.1:16379/0",
        "sms 7 sent, serial 2645:1381234567812345678901234567, fingerprint 1381-2345-6781-ABCD",
    ],
)
def test_timestamps_counts_codes_ids_and_ports_are_left_as_they_are(line: str):
    assert log_privacy.mask(line) == line


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("TEL13812345678", "TEL138****5678"),
        ("phone13812345678x", "phone138****5678x"),
        ("request 8d3e-13812345678f", "request 8d3e-138****5678f"),
    ],
)
def test_a_number_glued_to_a_letter_is_masked_too(line: str, masked: str):
    """Privacy first: a phone glued to a letter ("TEL13812345678") is a phone; that a hex hash or
    a UUID holding such a run is masked too only makes that one log line less exact."""
    assert log_privacy.mask(line) == masked


def test_the_card_service_logs_a_certificate_read_error_masked(
    output: io.StringIO, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """``python -m card_service`` puts the same filter on its log: an error reading a card's
    certificate (whose subject holds the holder's ID number) is written masked."""
    rig = make_rig(tmp_path)

    def unreadable(slot: str) -> None:
        raise ValueError(f"bad subject attribute UID={ID_NUMBER}")

    monkeypatch.setattr(rig.card, "read_certificate", unreadable)

    def window(presenter: Presenter) -> None:  # the Tk window's loop: a card goes in, the read fails
        presenter.on_card_event(ReaderAdded(READER))
        presenter.on_card_event(CardInserted(READER, ATR))
        rig.settle()

    class NoMonitor:
        def __init__(self, callback: object) -> None:
            pass

        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

    monkeypatch.setattr(card_service_main, "build", lambda config: rig.presenter)
    monkeypatch.setattr(card_service_main, "CardMonitor", NoMonitor)
    monkeypatch.setattr(card_service_main, "run", window)
    assert card_service_main.main(["--home", str(tmp_path)]) == 0
    text = output.getvalue()
    assert f"could not read the card certificate: ValueError: bad subject attribute UID={MASKED_ID_NUMBER}" in text
    assert ID_NUMBER not in text


def test_the_card_service_takes_only_the_log_filter_from_the_backend():
    """The desktop program imports the backend's filter, and with it nothing of the server."""
    code = "import sys, card_service.__main__; print(*sorted(m for m in sys.modules if m.startswith('backend')))"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["backend", "backend.core", "backend.core.identifiers", "backend.core.log_privacy"]


def test_an_uncaught_error_in_a_card_service_thread_or_tk_callback_is_logged_masked(
    output: io.StringIO, monkeypatch: pytest.MonkeyPatch
):
    """Python prints an uncaught thread error, and Tk a callback's, straight to stderr, past the
    filter: the card service routes both through logging."""
    import threading

    from card_service.window import log_callback_error

    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    log_privacy.install()
    log_privacy.log_uncaught()

    def fails() -> None:
        raise ValueError(f"card of {ID_NUMBER} unreadable")

    worker = threading.Thread(target=fails)
    worker.start()
    worker.join()
    try:
        fails()
    except ValueError as error:
        log_callback_error(type(error), error, error.__traceback__)
    text = output.getvalue()
    assert ID_NUMBER not in text and text.count(identifiers.mask_id_number(ID_NUMBER)) >= 2, text
