"""Each channel against a real server on 127.0.0.1: what arrives, and each failure's reason."""

from __future__ import annotations

import pytest

from stockpipe.alerts.channels import DeliveryError, Email, SlackBot, SlackWebhook
from stockpipe.alerts.render import Message
from stockpipe.store.embedded import free_port
from tests.fixtures.alert_receivers import (
    BOT_TOKEN,
    SMTP_PASSWORD,
    SMTP_USER,
    WEBHOOK_PATH,
    Certificates,
    SmtpReceiver,
    WebhookReceiver,
)

MESSAGE = Message(
    "stockpipe: run of stock_job failed", ("Job: stock_job", "Run: r-1"), "http://ui/runs/r-1"
)


def email_to(server: SmtpReceiver, certificates: Certificates, **overrides: object) -> Email:
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": server.security,
        "sender": "stockpipe@example.test",
        "recipients": ["ops@example.test", "oncall@example.test"],
        "user": SMTP_USER,
        "password": SMTP_PASSWORD,
        "timeout": 10,
        "ssl_context": certificates.client_context(),
    }
    options.update(overrides)
    return Email(**options)  # type: ignore[arg-type]


def test_the_webhook_receives_the_title_lines_and_link(webhook: WebhookReceiver):
    SlackWebhook(webhook.webhook_url, timeout=5).send(MESSAGE)

    [received] = webhook.delivered()
    assert received.path == WEBHOOK_PATH
    assert received.text == (
        "*stockpipe: run of stock_job failed*\nJob: stock_job\nRun: r-1\nhttp://ui/runs/r-1"
    )


def test_a_webhook_500_is_a_delivery_error_that_does_not_quote_the_url(webhook: WebhookReceiver):
    webhook.fail_next(1)

    with pytest.raises(DeliveryError) as info:
        SlackWebhook(webhook.webhook_url, timeout=5).send(MESSAGE)

    assert str(info.value) == "HTTP 500: internal_error"


def test_an_unreachable_webhook_names_the_error_but_never_the_secret_path():
    url = f"http://127.0.0.1:{free_port()}{WEBHOOK_PATH}"

    with pytest.raises(DeliveryError) as info:
        SlackWebhook(url, timeout=5).send(MESSAGE)

    assert str(info.value).startswith("ConnectionError: ")
    assert "Zx81webhooksecret" not in str(info.value)


def test_the_bot_posts_to_its_channel_with_its_token(webhook: WebhookReceiver):
    SlackBot(BOT_TOKEN, "#alerts", api_url=webhook.api_url, timeout=5).send(MESSAGE)

    [received] = webhook.delivered()
    assert received.path == "/api/chat.postMessage"
    assert received.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert received.body["channel"] == "#alerts"
    assert received.text.startswith("*stockpipe: run of stock_job failed*\n")


def test_slacks_ok_false_is_a_delivery_error_with_slacks_reason(webhook: WebhookReceiver):
    webhook.bot_error("invalid_auth")

    with pytest.raises(DeliveryError) as info:
        SlackBot(BOT_TOKEN, "#alerts", api_url=webhook.api_url, timeout=5).send(MESSAGE)

    assert str(info.value) == "HTTP 200: invalid_auth"


def test_email_over_starttls_logs_in_and_reaches_every_recipient(
    smtp_starttls: SmtpReceiver, certificates: Certificates
):
    email_to(smtp_starttls, certificates).send(MESSAGE)

    [mail] = smtp_starttls.mails
    assert mail.login == SMTP_USER
    assert mail.sender == "stockpipe@example.test"
    assert mail.recipients == ["ops@example.test", "oncall@example.test"]
    assert mail.subject == "stockpipe: run of stock_job failed"
    assert mail.body == "Job: stock_job\nRun: r-1\nhttp://ui/runs/r-1\n"


def test_email_over_implicit_tls_logs_in(certificates: Certificates):
    server = SmtpReceiver(
        certificates, security="ssl", user=SMTP_USER, password=SMTP_PASSWORD
    ).start()
    try:
        email_to(server, certificates).send(MESSAGE)
    finally:
        server.stop()

    [mail] = server.mails
    assert mail.login == SMTP_USER
    assert mail.subject == "stockpipe: run of stock_job failed"


def test_a_plain_relay_gets_no_login_when_no_user_is_configured(certificates: Certificates):
    server = SmtpReceiver(certificates, security="plain").start()
    try:
        email_to(server, certificates, user=None, password=None).send(MESSAGE)
    finally:
        server.stop()

    [mail] = server.mails
    assert mail.login is None
    assert server.auth_attempts == []


def test_a_wrong_password_is_an_authentication_error_without_the_password(
    smtp_starttls: SmtpReceiver, certificates: Certificates
):
    with pytest.raises(DeliveryError) as info:
        email_to(smtp_starttls, certificates, password="wrong-Pa55-77").send(MESSAGE)

    assert str(info.value).startswith("SMTPAuthenticationError: (535")
    assert "wrong-Pa55-77" not in str(info.value)
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN) before it gives up.
    assert set(smtp_starttls.auth_attempts) == {SMTP_USER}
    assert smtp_starttls.mails == []


def test_an_untrusted_certificate_is_refused(
    smtp_starttls: SmtpReceiver, certificates: Certificates
):
    import ssl

    with pytest.raises(DeliveryError, match="SSLCertVerificationError"):
        email_to(smtp_starttls, certificates, ssl_context=ssl.create_default_context()).send(
            MESSAGE
        )

    assert smtp_starttls.mails == []


def test_a_refused_smtp_connection_is_a_delivery_error(certificates: Certificates):
    closed = SmtpReceiver(certificates, security="starttls")  # never started: nothing listens

    with pytest.raises(DeliveryError, match=r"^ConnectionRefusedError: "):
        email_to(closed, certificates).send(MESSAGE)
