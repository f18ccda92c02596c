"""Phones, ID numbers and database-quoted values never reach the log output (backend/core/log_privacy.py).

Each test attaches a handler to the root logger as ``basicConfig`` would, then goes through the
start-up that installs the filter (the app, the worker, the command lines) and reads what was written.
"""

from __future__ import annotations

import io
import logging
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
from backend.core import log_privacy, sms_delivery
from backend.core.config import Settings
from backend.units.models import Unit
from jobs import worker as jobs_worker
from jobs.__main__ import main as jobs_main
from tests import conftest

# arq's Worker.close() calls redis-py's deprecated close(); nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

PHONE = "13812345678"
MASKED_PHONE = "138****5678"
ID_NUMBER = "11010519491231002X"
MASKED_ID_NUMBER = "1101**********002X"
PINYIN = "zhangsanfeng"

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
        (f"86{PHONE} and 0086{PHONE}", f"86{MASKED_PHONE} and 0086{PHONE}"),  # E.164 without the +; 0086 is 15 digits
        ("fixed line 0871-65150432", None),
    ],
)
def test_only_numbers_standing_alone_are_masked(line: str, masked: str | None):
    assert log_privacy.mask(line) == (masked or line)
