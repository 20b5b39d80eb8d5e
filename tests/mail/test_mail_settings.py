"""Flags and environment -> settings: defaults, rate limits, addresses, credentials only from the environment."""

from __future__ import annotations

import argparse

import pytest

from bot.mail.service import add_arguments
from bot.mail.settings import ConfigError, rate_limit, settings
from bot.mail.transport import Outbox, Relay


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser.add_argument_group("email"))
    return parser.parse_args(argv)


def test_defaults_listen_on_loopback_and_write_an_outbox():
    config = settings(parse())
    assert (config.listen.host, config.listen.port, config.listen.hostname) == ("127.0.0.1", 8025, "localhost")
    assert "predbot@localhost" in config.ours and not config.allowed
    assert isinstance(config.transport, Outbox) and config.rate == (30, 3600)


def test_rate_limits_read_like_people_write_them():
    assert rate_limit("30/hour") == (30, 3600)
    assert rate_limit("5/10min") == (5, 600)
    assert rate_limit("100 / day") == (100, 86400)
    assert rate_limit("0") == (0, 1.0)
    with pytest.raises(argparse.ArgumentTypeError):
        rate_limit("lots")


def test_bad_addresses_are_refused_by_the_flag_parser(capsys):
    with pytest.raises(SystemExit):
        parse("--bot-address", "predbot")
    assert "not an address or @domain: predbot" in capsys.readouterr().err


def test_relay_credentials_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PREDBOT_RELAY_USER", "bot")
    monkeypatch.setenv("PREDBOT_RELAY_PASSWORD", "s3cret")
    config = settings(parse("--relay-host", "mail.example.com", "--relay-port", "587", "--relay-starttls",
                            "--bot-address", "predbot@example.com,@bots.example.com"))
    assert config.transport == Relay("mail.example.com", 587, True, ("bot", "s3cret"), None)
    assert "s3cret" not in config.transport.describe()
    assert config.listen.hostname == "bots.example.com"


def test_smtp_auth_without_starttls_is_refused(monkeypatch):
    monkeypatch.setenv("PREDBOT_SMTP_USER", "ann")
    with pytest.raises(ConfigError, match="needs STARTTLS"):
        settings(parse())


def test_a_second_server_on_the_same_spool_or_port_stops_with_a_reason(serve, tmp_path):
    from bot.mail.testing import ServiceThread

    first = serve()
    with pytest.raises(SystemExit, match="predbot: email: another predbot is using the spool"):
        ServiceThread(None, ["--spool", str(first.args.spool), "--smtp-port", "0"])
    with pytest.raises(SystemExit, match=f"predbot: email: cannot listen on 127.0.0.1:{first.port}"):
        ServiceThread(None, ["--spool", str(tmp_path / "other"), "--smtp-port", str(first.port)])
