"""Tencent Cloud SMS through the official SDK (API 2021-01-11, TC3-HMAC-SHA256 signed by the SDK).

The SDK is synchronous (requests): every call runs in a thread, with a fresh client so no HTTP
session is shared between threads. Only ``endpoint`` and ``protocol`` differ between production
and the local fake gateway. The SDK's own logger prints request bodies (phones, parameters) at
debug level, so it is held at warning level here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from backend.core.config import TencentSmsSettings
from backend.core.sms_provider import OutgoingSms, SmsSendError
from backend.core.sms_templates import ordered_params

logging.getLogger("tencentcloud_sdk_common").setLevel(logging.WARNING)

API_VERSION = "2021-01-11"
PULL_LIMIT = 100  # the API's maximum per call (its Offset is fixed at 0)
PULL_MAX_SECONDS = 7 * 24 * 3600  # the API keeps send records for seven days

# Error families in which the gateway answered and surely did not send. InternalError and
# anything the SDK made up from a network failure (but NOT_CONNECTED, below) or an unreadable
# answer leave it unknown.
_DEFINITE_FAMILIES = frozenset(
    {
        "AuthFailure",
        "FailedOperation",
        "InvalidAction",
        "InvalidParameter",
        "InvalidParameterValue",
        "LimitExceeded",
        "MissingParameter",
        "NoSuchVersion",
        "RequestLimitExceeded",
        "UnauthorizedOperation",
        "UnknownParameter",
        "UnsupportedOperation",
    }
)
# Refusals about this very message: another try cannot succeed.
_PERMANENT = frozenset(
    {
        "FailedOperation.ContainSensitiveWord",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        "InvalidParameterValue.ContentLengthLimit",
        "InvalidParameterValue.IncorrectPhoneNumber",
        "InvalidParameterValue.TemplateParameterFormatError",
        "InvalidParameterValue.TemplateParameterLengthLimit",
        "template_not_configured",
    }
)


# The SDK wraps every error of ``requests`` as ClientNetworkError. One raised while the connection
# was being opened (refused, a name that does not resolve, a connect timeout) means the request never
# left: surely not sent, so it is retried without asking the gateway first. Any other (a read timeout,
# a connection reset once the request was out) leaves it unknown.
NOT_CONNECTED = "ClientNetworkError.NotConnected"
_CONNECT_ERRORS = frozenset({"NewConnectionError", "ConnectTimeoutError", "NameResolutionError", "ConnectTimeout"})
_CONNECT_ERROR_TEXTS = (*_CONNECT_ERRORS, "Connection refused", "Failed to establish a new connection")
_MAX_CHAIN = 10


def never_connected(exc: BaseException) -> bool:
    """Did the SDK's ClientNetworkError ``exc`` come from opening the connection? Read from the
    wrapped exceptions (the SDK raises inside ``except``) and, should it keep none, its message."""
    link: BaseException | None = exc
    for _ in range(_MAX_CHAIN):
        if link is None:
            break
        if _CONNECT_ERRORS.intersection(cls.__name__ for cls in type(link).__mro__):
            return True
        link = link.__cause__ or link.__context__
    message = str(getattr(exc, "message", None) or exc)
    return any(text in message for text in _CONNECT_ERROR_TEXTS)


def classify(code: str) -> SmsSendError:
    family = code.split(".", 1)[0]
    definite = family in _DEFINITE_FAMILIES or code == NOT_CONNECTED
    return SmsSendError(
        code,
        definite=definite,
        permanent=code in _PERMANENT,
        rate_limited=family in ("LimitExceeded", "RequestLimitExceeded"),
    )


def e164(phone: str) -> str:
    """Mainland numbers as Tencent wants them: ``+86`` and the 11 digits."""
    return phone if phone.startswith("+") else f"+86{phone}"


class TencentSmsChannel:
    name = "tencent"
    immediate = False

    def __init__(self, settings: TencentSmsSettings) -> None:
        self.settings = settings

    def _client(self) -> Any:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        http = HttpProfile(
            protocol=self.settings.protocol,
            endpoint=self.settings.endpoint,
            reqTimeout=self.settings.timeout_seconds,  # requests takes fractions of a second too
        )
        profile = ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http)
        cred = credential.Credential(self.settings.secret_id, self.settings.secret_key)
        return sms_client.SmsClient(cred, self.settings.region, profile)

    async def _call(self, action: str, request: Any) -> Any:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        def call() -> Any:
            return getattr(self._client(), action)(request)

        try:
            return await asyncio.to_thread(call)
        except TencentCloudSDKException as exc:
            code = str(exc.code or "ClientError")
            if code == "ClientNetworkError" and never_connected(exc):
                code = NOT_CONNECTED
            raise classify(code) from None

    async def send(self, sms: OutgoingSms) -> str:
        from tencentcloud.sms.v20210111 import models

        template_id = self.settings.template_ids.get(sms.template)
        if not template_id:
            raise classify("template_not_configured")
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [e164(sms.phone)]
        request.SmsSdkAppId = self.settings.sdk_app_id
        request.SignName = self.settings.sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = ordered_params(sms.template, sms.params)
        request.SessionContext = sms.session_context
        response = await self._call("SendSms", request)
        statuses = response.SendStatusSet or []
        if len(statuses) != 1:
            raise SmsSendError("UnexpectedResponse", definite=False)
        status = statuses[0]
        if status.Code != "Ok":
            raise classify(str(status.Code))  # a per-number refusal: the gateway answered
        return str(status.SerialNo)

    async def find_sent(self, phone: str, session_context: str, within_seconds: int) -> str | None:
        from tencentcloud.sms.v20210111 import models

        request = models.PullSmsSendStatusByPhoneNumberRequest()
        # The gateway's records carry wall-clock times; ours may run on an injected clock, so the
        # window is an age (how long ago the message was queued) measured on the wall clock here.
        request.BeginTime = int(time.time()) - max(1, min(within_seconds, PULL_MAX_SECONDS))
        request.Offset = 0
        request.Limit = PULL_LIMIT
        request.PhoneNumber = e164(phone)
        request.SmsSdkAppId = self.settings.sdk_app_id
        response = await self._call("PullSmsSendStatusByPhoneNumber", request)
        for status in response.PullSmsSendStatusSet or []:
            if status.SessionContext == session_context and status.SerialNo:
                return str(status.SerialNo)
        return None
