"""The HTTP server's settings from `predbot serve`'s flags and the environment: each flag, each key source, and
every way a key line can be wrong (named by its number, never quoted)."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import Config, ConfigError, add_batch_arguments
from bot.http.settings import Settings

DIGEST = hashlib.sha256(b"s3cret-key").hexdigest()


def http(*flags: str, **env: str) -> Settings:
    return Config.from_args(build_parser().parse_args(["serve", *flags]), env).http


def refusal(*flags: str, **env: str) -> str:
    with pytest.raises(ConfigError) as raised:
        http(*flags, **env)
    return str(raised.value)


def test_the_defaults_are_loopback_port_3000_one_worker_no_keys_and_batches_under_data():
    settings = http("--data", "D")
    assert (settings.host, settings.port, settings.workers, settings.keys) == ("127.0.0.1", 3000, 1, ())
    assert (settings.rate, settings.cors_origins, settings.batch_input) == ((600, 60.0), (), None)
    assert settings.batch_output == Path("D") / "batches"
    assert not settings.keyed


@pytest.mark.parametrize("flags", [("--host", "0.0.0.0", "--port", "8080"),
                                   ("--slack-host", "0.0.0.0", "--slack-port", "8080")])
def test_host_and_port_take_the_old_slack_names_too(flags):
    settings = http(*flags)
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)


def test_each_limit_flag_sets_its_field():
    settings = http("--workers", "3", "--api-rate-limit", "5/10min", "--max-body-bytes", "2048",
                    "--max-rows-per-request", "7", "--max-upload-bytes", "4096", "--batch-tick", "0.5",
                    "--batch-input", "in", "--batch-output", "out")
    assert (settings.workers, settings.rate, settings.max_body_bytes) == (3, (5, 600), 2048)
    assert (settings.max_rows, settings.max_upload_bytes, settings.batch_tick) == (7, 4096, 0.5)
    assert (settings.batch_input, settings.batch_output) == (Path("in"), Path("out"))


def test_an_api_rate_limit_of_zero_is_no_limit():
    assert http("--api-rate-limit", "0").rate[0] == 0


def test_cors_origins_repeat():
    assert http("--cors-origin", "https://a.example", "--cors-origin", "https://b.example").cors_origins == (
        "https://a.example", "https://b.example")


@pytest.mark.parametrize("flags", [("--workers", "0"), ("--max-rows-per-request", "-1"), ("--batch-tick", "0"),
                                   ("--api-rate-limit", "lots")])
def test_a_flag_value_that_cannot_work_is_refused_by_the_parser(flags, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", *flags])
    assert exited.value.code == 2
    assert flags[0] in capsys.readouterr().err


def test_batch_arguments_can_be_added_to_another_command():
    parser = argparse.ArgumentParser()
    add_batch_arguments(parser)
    args = parser.parse_args(["--batch-input", "in", "--batch-output", "out"])
    assert (args.batch_input, args.batch_output) == (Path("in"), Path("out"))


def test_an_api_keys_file_gives_names_digests_and_models(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"# who may call\n\nci {DIGEST}\n  dash {DIGEST.upper()} iris,churn  # read only\n")
    ci, dash = http("--api-keys", str(keys)).keys
    assert (ci.name, ci.digest, ci.models) == ("ci", DIGEST, frozenset())
    assert (dash.name, dash.digest, dash.models) == ("dash", DIGEST, frozenset({"iris", "churn"}))
    assert dash.may_use("IRIS") and not dash.may_use("diabetes") and ci.may_use("diabetes")


def test_keys_from_the_environment_are_kept_as_their_sha256_restricted_with_plus():
    ci, ro = http(PREDBOT_API_KEYS="ci=s3cret-key, ro=other:iris+churn").keys
    assert (ci.name, ci.digest, ci.models) == ("ci", DIGEST, frozenset())
    assert (ro.name, ro.digest, ro.models) == ("ro", hashlib.sha256(b"other").hexdigest(), frozenset({"iris", "churn"}))


def test_keys_from_the_file_and_the_environment_are_both_used(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"ci {DIGEST}\n")
    assert [key.name for key in http("--api-keys", str(keys), PREDBOT_API_KEYS="ops=k").keys] == ["ci", "ops"]


def test_no_key_or_digest_shows_in_the_settings_repr():
    settings = http(PREDBOT_API_KEYS="ci=s3cret-key")
    assert "s3cret-key" not in repr(settings) and DIGEST not in repr(settings)
    assert "ci" in repr(settings)


@pytest.mark.parametrize(("line", "said"), [
    ("ci", "line 2: expected NAME SHA256 [MODEL,MODEL...], got 1 fields"),
    (f"ci {DIGEST} iris extra", "line 2: expected NAME SHA256 [MODEL,MODEL...], got 4 fields"),
    ("ci s3cret-key", "line 2: the second field must be the key's sha256"),
    (f"ci {DIGEST[:-1]}", "line 2: the second field must be the key's sha256"),
    (f"c/i {DIGEST}", "line 2: a key's name is letters, digits and _ . @ -"),
])
def test_a_malformed_key_line_names_its_number_and_never_the_key_or_digest(tmp_path, line, said):
    keys = tmp_path / "keys"
    keys.write_text(f"# keys\n{line}\n")
    message = refusal("--api-keys", str(keys))
    assert message.startswith(f"--api-keys {keys}: {said}")
    assert "s3cret-key" not in message and DIGEST[:-1] not in message


def test_two_keys_of_one_name_are_refused(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"ci {DIGEST}\nCI {DIGEST}\n")
    assert "two keys are named 'CI'" in refusal("--api-keys", str(keys))
    assert "two keys are named 'ci'" in refusal(PREDBOT_API_KEYS="ci=a,ci=b")


def test_a_missing_or_unreadable_keys_file_is_a_config_error(tmp_path):
    assert refusal("--api-keys", str(tmp_path / "nope")) == (
        f"--api-keys {tmp_path / 'nope'}: cannot read it (No such file or directory)")
    binary = tmp_path / "binary"
    binary.write_bytes(b"ci \xff\xfe\n")
    assert refusal("--api-keys", str(binary)).startswith(f"--api-keys {binary}: ")


@pytest.mark.parametrize(("value", "said"), [
    ("ci", "PREDBOT_API_KEYS: entry 1: expected NAME=KEY or NAME=KEY:MODEL+MODEL"),
    ("ci=k,=s3cret-key", "PREDBOT_API_KEYS: entry 2: expected NAME=KEY"),
    ("ci=", "PREDBOT_API_KEYS: entry 1 (ci): the key is empty"),
])
def test_a_malformed_key_variable_names_the_entry_and_never_the_key(value, said):
    message = refusal(PREDBOT_API_KEYS=value)
    assert message.startswith(said)
    assert "s3cret-key" not in message

