"""E-mail an alert over SMTP: STARTTLS when the server offers it, credentials from the
environment variables the configuration names (``user_env``, ``password_env``)."""

from __future__ import annotations

import os
import smtplib
from email.message import EmailMessage

from tracker.core.errors import TrackerError
from tracker.outputs.alerts.text import alert_body, alert_subject

__all__ = ["send_email"]


def send_email(alert: dict, config: dict, *, timeout_s: float = 30.0) -> None:
    """Send ``alert`` to ``config['to']`` (address or list) through ``config['host']``
    (``port`` default 25; ``starttls``: ``auto`` (when offered, default), ``always``,
    ``never``; ``cafile``: a CA bundle to verify the server with instead of the system's).
    ``user_env``/``password_env`` name the environment variables holding the login.
    Raises :class:`TrackerError` with one line on failure."""
    msg = EmailMessage()
    msg["Subject"] = alert_subject(alert)
    msg["From"] = config["from"]
    to = config["to"] if isinstance(config["to"], list) else [config["to"]]
    msg["To"] = ", ".join(to)
    msg.set_content(alert_body(alert))
    mode = str(config.get("starttls", "auto")).lower()
    user = os.environ.get(config["user_env"]) if config.get("user_env") else None
    password = os.environ.get(config["password_env"]) if config.get("password_env") else None
    try:
        with smtplib.SMTP(config["host"], int(config.get("port", 25)), timeout=timeout_s) as smtp:
            smtp.ehlo()
            if mode == "always" or (mode == "auto" and smtp.has_extn("starttls")):
                import ssl

                smtp.starttls(context=ssl.create_default_context(cafile=config.get("cafile")))
                smtp.ehlo()
            if user:
                smtp.login(user, password or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise TrackerError(
            f"e-mail to {config['host']}:{config.get('port', 25)} failed: "
            f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        ) from exc
