"""Where alerts go: a Slack incoming webhook, a Slack bot (chat.postMessage), SMTP.

Each channel sends one message once and raises DeliveryError with a reason that holds no
secret; retries belong to stockpipe.alerts.delivery.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol
from urllib.parse import urlsplit

import requests

from stockpipe.alerts.render import Message
from stockpipe.errors import StockpipeError
from stockpipe.redact import redact
from stockpipe.settings import Settings

SMTP_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "plain": 25}
_BODY_EXCERPT = 200


class DeliveryError(StockpipeError):
    """One attempt to send an alert failed; the message says why (never a secret)."""


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, message: Message) -> None: ...


def webhook_secrets(url: str) -> list[str]:
    """The webhook URL is the credential, and error texts may show only its path."""
    parts = urlsplit(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return [url, tail] if len(tail) > 8 else [url]


class SlackWebhook:
    """A Slack incoming webhook: POST {"text": ...}; Slack answers 200 "ok"."""

    name = "slack webhook"

    def __init__(self, url: str, *, timeout: float) -> None:
        self._url = url
        self._timeout = timeout

    def send(self, message: Message) -> None:
        secrets = webhook_secrets(self._url)
        try:
            response = requests.post(self._url, json=message.slack_payload(), timeout=self._timeout)
        except requests.RequestException as exc:
            raise DeliveryError(redact(f"{type(exc).__name__}: {exc}", secrets)) from None
        if response.status_code != 200:
            body = response.text[:_BODY_EXCERPT]
            raise DeliveryError(redact(f"HTTP {response.status_code}: {body}", secrets))


class SlackBot:
    """A Slack app's bot token posting to one channel, as dagster-slack does (chat.postMessage).
    `api_url` is Slack's Web API root; tests point it at a local receiver."""

    def __init__(self, token: str, channel: str, *, api_url: str, timeout: float) -> None:
        self._token = token
        self._channel = channel
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout

    @property
    def name(self) -> str:
        return f"slack bot to {self._channel}"

    def send(self, message: Message) -> None:
        payload = {**message.slack_payload(), "channel": self._channel}
        try:
            response = requests.post(
                f"{self._api_url}/chat.postMessage",
                json=payload,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise DeliveryError(redact(f"{type(exc).__name__}: {exc}", [self._token])) from None
        # Slack answers 200 with {"ok": false, "error": "channel_not_found"} for most mistakes.
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code != 200 or not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else None
            reason = error or response.text[:_BODY_EXCERPT]
            raise DeliveryError(redact(f"HTTP {response.status_code}: {reason}", [self._token]))


class Email:
    """SMTP: STARTTLS on 587, implicit TLS on 465, or plain (a local relay); login only when a
    user is configured, so an open relay needs no credentials."""

    def __init__(
        self,
        *,
        host: str,
        port: int | None,
        security: str,
        sender: str,
        recipients: Sequence[str],
        user: str | None = None,
        password: str | None = None,
        timeout: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port or SMTP_DEFAULT_PORTS[security]
        self._security = security
        self._sender = sender
        self._recipients = list(recipients)
        self._user = user
        self._password = password
        self._timeout = timeout
        self._ssl_context = ssl_context

    @property
    def name(self) -> str:
        return (
            f"email to {', '.join(self._recipients)} via {self._host}:{self._port}"
            f" ({self._security})"
        )

    def send(self, message: Message) -> None:
        email = EmailMessage()
        email["Subject"] = message.title
        email["From"] = self._sender
        email["To"] = ", ".join(self._recipients)
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        email.set_content(message.text() + "\n")
        context = self._ssl_context or ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self._security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    self._host, self._port, timeout=self._timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            with smtp:
                if self._security == "starttls":
                    smtp.starttls(context=context)
                if self._user:
                    smtp.login(self._user, self._password or "")
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            raise DeliveryError(redact(reason, [self._password])) from None


def channels_from_settings(
    settings: Settings, *, ssl_context: ssl.SSLContext | None = None
) -> list[Channel]:
    """Every configured channel; empty when none is (then nothing is ever sent)."""
    channels: list[Channel] = []
    timeout = settings.alert_timeout_sec
    if settings.alert_slack_webhook_url is not None:
        url = settings.alert_slack_webhook_url.get_secret_value()
        channels.append(SlackWebhook(url, timeout=timeout))
    if settings.alert_slack_bot_token is not None and settings.alert_slack_channel:
        channels.append(
            SlackBot(
                settings.alert_slack_bot_token.get_secret_value(),
                settings.alert_slack_channel,
                api_url=settings.alert_slack_api_url,
                timeout=timeout,
            )
        )
    if settings.alert_email_to and settings.alert_smtp_host:
        password = settings.alert_smtp_password
        channels.append(
            Email(
                host=settings.alert_smtp_host,
                port=settings.alert_smtp_port,
                security=settings.alert_smtp_security,
                sender=settings.alert_email_from,
                recipients=settings.alert_email_to,
                user=settings.alert_smtp_user,
                password=password.get_secret_value() if password else None,
                timeout=timeout,
                ssl_context=ssl_context,
            )
        )
    return channels
