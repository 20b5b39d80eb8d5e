"""Flags and environment -> the email section: defaults, allow-lists, and credentials only from the environment."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from doubles.mail import ServiceThread

from bot.cli import build_parser
from bot.config import Config, ConfigError
from bot.mail.service import listening, replies
from bot.mail.settings import Settings, rate_limit
from bot.mail.transport import Outbox, Relay


def mail(*argv: str, env: dict[str, str] | None = None) -> Settings:
    """The email section `predbot serve ARGV` gets in environment `env`."""
    return Config.from_args(build_parser().parse_args(["serve", *argv]), env or {}).mail


def test_defaults_listen_on_loopback_and_write_an_outbox_under_the_data_directory():
    settings = mail()
    options = listening(settings)
    assert (options.host, options.port, options.hostname, options.tls, options.login) == (
        "127.0.0.1", 8025, "localhost", None, None)
    assert "predbot@localhost" in settings.ours and not settings.allowed and settings.rate == (30, 3600)
    assert (settings.spool, settings.outbox) == (Path("var/spool"), Path("var/outbox"))
    assert replies(settings) == Outbox(Path("var/outbox"))


def test_the_data_directory_moves_spool_and_outbox_unless_they_are_given(tmp_path):
    assert (mail("--data", str(tmp_path)).spool, mail(env={"PREDBOT_DATA": "/srv/predbot"}).outbox) == (
        tmp_path / "spool", Path("/srv/predbot/outbox"))
    assert mail("--data", str(tmp_path), "--spool", "/elsewhere").spool == Path("/elsewhere")


def test_rate_limits_read_like_people_write_them():
    assert rate_limit("30/hour") == (30, 3600)
    assert rate_limit("5/10min") == (5, 600)
    assert rate_limit("100 / day") == (100, 86400)
    assert rate_limit("0") == (0, 1.0)
    with pytest.raises(argparse.ArgumentTypeError):
        rate_limit("lots")


def test_bad_addresses_are_refused_by_the_flag_parser(capsys):
    with pytest.raises(SystemExit):
        mail("--bot-address", "predbot")
    assert "not an address or @domain: predbot" in capsys.readouterr().err


def test_the_sender_allow_list_comes_from_the_flag_else_the_environment():
    from_env = mail(env={"PREDBOT_MAIL_ALLOWED_SENDERS": "ann@example.com, @corp.test"})
    assert "ann@example.com" in from_env.allowed and "bo@corp.test" in from_env.allowed
    from_flag = mail("--allow-senders", "cy@example.com", "--allow-senders", "@x.test",
                     env={"PREDBOT_MAIL_ALLOWED_SENDERS": "ann@example.com"})
    assert "cy@example.com" in from_flag.allowed and "a@x.test" in from_flag.allowed
    assert "ann@example.com" not in from_flag.allowed
    with pytest.raises(ConfigError, match="^PREDBOT_MAIL_ALLOWED_SENDERS: not an address or @domain: ann$"):
        mail(env={"PREDBOT_MAIL_ALLOWED_SENDERS": "ann"})


def test_relay_credentials_come_from_the_environment():
    settings = mail("--relay-host", "mail.example.com", "--relay-port", "587", "--relay-starttls",
                    "--bot-address", "predbot@example.com,@bots.example.com",
                    env={"PREDBOT_RELAY_USER": "bot", "PREDBOT_RELAY_PASSWORD": "s3cret"})
    assert replies(settings) == Relay("mail.example.com", 587, True, ("bot", "s3cret"), None)
    assert "s3cret" not in replies(settings).describe() and "s3cret" not in repr(settings)
    assert listening(settings).hostname == "bots.example.com"


def test_smtp_auth_without_starttls_is_refused():
    with pytest.raises(ConfigError, match="needs STARTTLS"):
        listening(mail(env={"PREDBOT_SMTP_USER": "ann", "PREDBOT_SMTP_PASSWORD": "pw"}))


def test_an_unreadable_certificate_is_named(tmp_path):
    missing = tmp_path / "cert.pem"
    with pytest.raises(ConfigError, match=f"^cannot load the certificate {missing}: No such file or directory$"):
        listening(mail("--smtp-tls-cert", str(missing), "--smtp-tls-key", str(missing)))


def test_a_second_server_on_the_same_spool_or_port_stops_with_a_reason(serve, shared, tmp_path):
    first = serve()
    with pytest.raises(ConfigError, match="^email: another predbot is using the spool"):
        ServiceThread(None, ["--spool", str(first.settings.spool), "--smtp-port", "0"], shared)
    with pytest.raises(ConfigError, match=f"^email: cannot listen on 127.0.0.1:{first.port}: "):
        ServiceThread(None, ["--spool", str(tmp_path / "other"), "--smtp-port", str(first.port)], shared)
