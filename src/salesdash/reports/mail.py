"""E-mail through SMTP (``SALESDASH_SMTP_URL``) and JSON webhooks, for scheduled reports and alerts.

``smtp://[user:password@]host[:port]`` or ``smtps://...`` (TLS from the first byte, port 465 by default).
``SALESDASH_SMTP_TLS`` chooses the transport security: ``auto`` (default: ``smtps://`` = implicit TLS; ``smtp://``
= STARTTLS required, except to a loopback relay, which is plain), ``starttls``, ``ssl`` or ``none``. User and
password (URL-encoded in the URL) log in with SMTP AUTH, only over TLS unless the relay is on loopback.
The password is never logged: errors name the host and port only.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from salesdash.config import Settings, is_loopback
from salesdash.errors import ConfigError, InvalidParameter

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class DeliveryError(Exception):
    """A message could not be delivered (the text names the server, never a credential)."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: str  # none | starttls | ssl
    username: str | None
    password: str | None
    sender: str
    timeout: float

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def smtp_target(settings: Settings) -> SmtpTarget:
    """The SMTP server from the settings; ConfigError when none is configured or the URL is not usable."""
    if settings.smtp_url is None:
        raise ConfigError(
            "No SMTP server is configured: set SALESDASH_SMTP_URL (for example smtp://127.0.0.1:25) to send "
            "reports and alerts by e-mail.",
            details=[{"setting": "SALESDASH_SMTP_URL", "message": "not set"}],
        )
    parts = urlsplit(settings.smtp_url.get_secret_value())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(
            "SALESDASH_SMTP_URL must look like smtp://host:port or smtps://user:password@host:port.",
            details=[{"setting": "SALESDASH_SMTP_URL", "message": "not an smtp:// or smtps:// URL"}],
        )
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ConfigError(
            "SALESDASH_SMTP_URL has an invalid port.",
            details=[{"setting": "SALESDASH_SMTP_URL", "message": "invalid port"}],
        ) from None
    security: str = settings.smtp_tls
    if security == "auto":
        plain = "none" if is_loopback(parts.hostname) else "starttls"
        security = "ssl" if parts.scheme == "smtps" else plain
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if username and security == "none" and not is_loopback(parts.hostname):
        raise ConfigError(
            "SALESDASH_SMTP_URL has a login but SALESDASH_SMTP_TLS=none: a password would cross the network "
            "in clear text. Use starttls or ssl.",
            details=[{"setting": "SALESDASH_SMTP_TLS", "message": "login without TLS"}],
        )
    return SmtpTarget(
        host=parts.hostname,
        port=port,
        security=security,
        username=username,
        password=password,
        sender=settings.smtp_from,
        timeout=settings.smtp_timeout,
    )


def check_recipients(values: Sequence[str], parameter: str = "recipients") -> list[str]:
    """Addresses, each ``local@domain`` without spaces, commas or line breaks (no header injection)."""
    out: list[str] = []
    bad: list[str] = []
    for value in values:
        address = str(value).strip()
        local, at, domain = address.rpartition("@")
        if (
            not at
            or not local
            or "." not in domain
            or any(c.isspace() or c in ",;<>\"'()" for c in address)
            or len(address) > 254
        ):
            bad.append(address)
        elif address not in out:
            out.append(address)
    if bad or not out:
        raise InvalidParameter(
            f"{parameter}: give at least one e-mail address (name@example.com); not valid: "
            + (", ".join(repr(b) for b in bad) or "none given")
            + ".",
            details=[{"parameter": parameter, "value": b, "message": "not an e-mail address"} for b in bad]
            or [{"parameter": parameter, "message": "at least one address"}],
        )
    return out


def compose(
    target: SmtpTarget,
    recipients: Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    """A plain-text message; ``attachments`` = (file name, media type, bytes)."""
    message = EmailMessage()
    message["From"] = target.sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = " ".join(subject.split())[:200]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="salesdash")
    message.set_content(body)
    for filename, media_type, content in attachments:
        maintype, _, subtype = media_type.split(";")[0].partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send(target: SmtpTarget, message: EmailMessage) -> None:
    """Deliver ``message``; DeliveryError (naming host:port and the SMTP reply) when it cannot."""
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if target.security == "ssl":
            client = smtplib.SMTP_SSL(target.host, target.port, timeout=target.timeout, context=context)
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=target.timeout)
        with client:
            if target.security == "starttls":
                client.starttls(context=context)
            if target.username:
                client.login(target.username, target.password or "")
            client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(
            f"SMTP server {target.where} refused: {exc.smtp_code} {_text(exc.smtp_error)}"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            f"SMTP server {target.where} unreachable or failed: {type(exc).__name__}"
        ) from None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def check_webhook(url: str | None) -> str | None:
    """A webhook URL: http(s) with a host, or None."""
    if url is None or url == "":
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or len(url) > 2000:
        raise InvalidParameter(
            "webhook_url must be an http:// or https:// URL without credentials.",
            details=[{"parameter": "webhook_url", "message": "http(s) URL with a host, no user:password"}],
        )
    return url


def post_json(url: str, payload: dict[str, Any], timeout: float) -> None:
    """POST ``payload`` as JSON (``url`` checked by check_webhook: http(s) only); DeliveryError unless 2xx."""
    import requests

    host = urlsplit(url).netloc
    try:
        response = requests.post(
            url,
            data=json.dumps(payload, default=str).encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": "salesdash"},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise DeliveryError(f"webhook {host} unreachable: {type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {host} answered HTTP {response.status_code}")
