"""Sending notification e-mails through the company's SMTP server (smtplib).

The settings (host, port, STARTTLS, login, sender) are set by the admin in the app (stored by
``records.notifications``) or, when the admin has set none, read from the environment::

    AFTERSALES_SMTP_HOST  AFTERSALES_SMTP_PORT  AFTERSALES_SMTP_STARTTLS (1/0)
    AFTERSALES_SMTP_USERNAME  AFTERSALES_SMTP_PASSWORD  AFTERSALES_SMTP_SENDER
    AFTERSALES_BASE_URL   (e.g. https://aftersales.example.com, to make links absolute)

Only the cron commands send (through the outbox in ``records.notifications``); the web app
queues. Plain Python: no Flask.
"""
from __future__ import annotations

import hashlib
import os
import re
import smtplib
import socket
import ssl
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

DEFAULT_TIMEOUT = 15.0  # seconds for connect and each SMTP command


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 25
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    base_url: str = ""
    timeout: float = DEFAULT_TIMEOUT
    source: str = "none"  # "admin" (stored), "env", or "none"

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.sender)

    def public(self) -> dict:
        """The settings without the password (for pages and JSON summaries)."""
        out = asdict(self)
        out.pop("password")
        out["has_password"] = bool(self.password)
        return out


def _env_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def settings_from_env(environ=None) -> SmtpSettings:
    env = os.environ if environ is None else environ
    host = (env.get("AFTERSALES_SMTP_HOST") or "").strip()
    if not host:
        return SmtpSettings(base_url=(env.get("AFTERSALES_BASE_URL") or "").strip())
    try:
        port = int(env.get("AFTERSALES_SMTP_PORT") or 25)
    except ValueError:
        raise ValueError(f"AFTERSALES_SMTP_PORT 不是端口号：{env.get('AFTERSALES_SMTP_PORT')!r}") from None
    return SmtpSettings(
        host=host,
        port=port,
        starttls=_env_bool(env.get("AFTERSALES_SMTP_STARTTLS")),
        username=(env.get("AFTERSALES_SMTP_USERNAME") or "").strip(),
        password=env.get("AFTERSALES_SMTP_PASSWORD") or "",
        sender=(env.get("AFTERSALES_SMTP_SENDER") or "").strip(),
        base_url=(env.get("AFTERSALES_BASE_URL") or "").strip(),
        source="env",
    )


class MailError(RuntimeError):
    """A mail could not be sent.

    ``permanent``: retrying the same message will not help (5xx). ``per_message``: the server
    answered about this one message (a recipient or its content refused) and the session is
    still usable, so the other queued messages can go out in the same run; otherwise (no
    connection, login refused, the session broken or closed with 421) the run stops.
    """

    def __init__(self, message: str, permanent: bool = False, per_message: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.per_message = per_message


def message_id(key: str) -> str:
    """A Message-ID derived from the notification's key: a re-send is recognisable."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"<{digest}.aftersales@localhost>"


_HEADER_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def header_value(value) -> str:
    """One header line: every control character (line breaks, tabs, NUL …) becomes a space and
    runs of spaces one, so that no value (a customer's name in a subject, say) can end the
    header or add one (``EmailMessage`` refuses a line break outright)."""
    return " ".join(_HEADER_CONTROL.sub(" ", str(value or "")).split())


def body_text(value) -> str:
    """The body with line breaks as ``\n`` and no other control characters but tabs."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _BODY_CONTROL.sub(" ", text)


def build_message(settings: SmtpSettings, to: str, subject: str, body: str, link: str = "",
                  key: str = "") -> EmailMessage:
    """The message of one notice; header values pass ``header_value``, the body ``body_text``.
    Raises ValueError if the result still cannot be a message (e.g. an unusable address)."""
    msg = EmailMessage()
    msg["From"] = header_value(settings.sender)
    msg["To"] = header_value(to)
    msg["Subject"] = header_value(subject)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id(key) if key else make_msgid(domain="aftersales")
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to these
    text = body_text(body).rstrip() + "\n"
    if link:
        url = header_value(settings.base_url.rstrip("/") + link if settings.base_url else link)
        text += f"\n查看：{url}\n"
    text += "\n——售后服务管理系统（自动发送，请勿回复）\n"
    msg.set_content(text)
    return msg


class Mailer:
    """One SMTP session: ``with Mailer(settings) as m: m.send(msg)``.

    Connection, TLS and login errors raise ``MailError`` (transient: the server may be back
    later); a recipient or message the server refuses for good raises ``MailError`` with
    ``permanent=True``; one it refuses for now (4xx) raises it with ``per_message=True``.
    """

    def __init__(self, settings: SmtpSettings):
        if not settings.enabled:
            raise MailError("未配置邮件服务器（主机和发件人）", permanent=True)
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "Mailer":
        s = self.settings
        try:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                smtp.ehlo()
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password)
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"邮件服务器拒绝登录：{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise MailError(f"邮件服务器不支持所需功能（STARTTLS 或登录）：{exc}") from exc
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise MailError(f"无法连接邮件服务器 {s.host}:{s.port}：{_describe(exc)}") from exc
        self._smtp = smtp
        return self

    def __exit__(self, *exc_info) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def send(self, msg: EmailMessage) -> None:
        assert self._smtp is not None, "use Mailer as a context manager"
        try:
            refused = self._smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = all(500 <= c < 600 for c in codes)
            # smtplib resets the session after a refused recipient (and closes it on 421).
            raise MailError(f"收件人被拒绝：{_refused(exc.recipients)}", permanent=permanent,
                            per_message=421 not in codes) from exc
        except smtplib.SMTPResponseException as exc:
            sender = isinstance(exc, smtplib.SMTPSenderRefused)  # the same sender for every message
            permanent = 500 <= exc.smtp_code < 600 and not sender
            raise MailError(f"邮件服务器拒绝：{exc.smtp_code} {_text(exc.smtp_error)}", permanent=permanent,
                            per_message=not sender and exc.smtp_code != 421) from exc
        except (smtplib.SMTPNotSupportedError, ValueError, UnicodeError) as exc:
            # Refused by smtplib before anything was sent (e.g. a non-ASCII address and a server
            # without SMTPUTF8): this message never can be, the session is untouched.
            raise MailError(f"邮件无法发送：{exc}", permanent=True, per_message=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"发送中断：{_describe(exc)}") from exc
        if refused:  # several recipients, some refused (we send one recipient per message)
            raise MailError(f"收件人被拒绝：{_refused(refused)}", permanent=True, per_message=True)


def send_test_mail(settings: SmtpSettings, to: str) -> None:
    """Send one test message at once (the admin's settings page); raises MailError."""
    msg = build_message(settings, to, "售后服务管理系统：测试邮件",
                        "这是一封测试邮件。收到即说明邮件服务器设置正确。")
    with Mailer(settings) as mailer:
        mailer.send(msg)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refused(recipients: dict) -> str:
    return "；".join(f"{addr}（{code} {_text(msg)}）" for addr, (code, msg) in recipients.items())


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝（服务器未运行或端口错误）"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "连接超时"
    if isinstance(exc, socket.gaierror):
        return f"无法解析主机名（{exc}）"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "服务器断开了连接"
    return f"{type(exc).__name__}: {exc}"
