"""predbot's configuration: one frozen Config, built once in `cli.main` from the command line and the environment.

One rule for every setting: a flag, and where it makes sense an environment
variable; a flag given wins over its variable, which wins over the default.
Tokens and passwords come only from the environment, so they never show in
`ps`. A setting that cannot work is a ConfigError whose message says which
and why, also when it shows only as a channel starts (a port in use, a token
Slack refuses); `cli.main` prints it as one line and exits with status 2.

Each channel gets its own section: `mail`, `slack` (None without
SLACK_BOT_TOKEN), `http` (the one HTTP server: the API, Slack's HTTP mode,
metrics, batches), and the terminal chat's `history` and `user`; `budget` is
the scoring pool's; `store` is the URL of predbot's memory (bot.store opens
it). A command's operands
(`ask`'s text, `score`'s file, `--json`, `--no-chat`, `export`'s `--since`)
are not settings: `cli` reads them from the parsed arguments.

`predbot --help` imports this module, so it imports nothing heavy: the
sections are plain data.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.http import settings as http
from bot.mail import settings as mail
from bot.mail.addresses import AddressSet
from bot.slack import settings as slack


class ConfigError(ValueError):
    """A setting that cannot work; the message says which and why, and never shows a token."""


@dataclass(frozen=True)
class Budget:
    """How much the scoring pool takes on, and how long an answer may take."""

    seconds: float = 30.0          # a message of commands
    file_seconds: float = 600.0    # CSV files (200,000 rows at about 1,000 rows/s, with room)
    threads: int = 4
    waiting: int = 1000            # answers queued beyond the threads; more are refused at once

    def for_files(self, attachments: Sequence[object]) -> float:
        return self.file_seconds if attachments else self.seconds


@dataclass(frozen=True)
class Config:
    models: Path | None             # None: the built-in demo models, built on first use under demo_cache
    default_model: str | None       # None: the one whose card says `default: true`
    require_pins: bool
    verbose: bool
    data: Path                      # where predbot keeps its files: the mail spool and outbox, the store by default
    demo_cache: Path
    history: Path                   # the terminal chat's line history
    user: str                       # who the terminal chat's messages come from
    store: str                      # SQLAlchemy URL of the store: SQLite (the default, under data) or PostgreSQL
    budget: Budget
    mail: mail.Settings
    slack: slack.Settings | None
    http: http.Settings

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> Config:
        """From `cli.build_parser()`'s parsed arguments; a flag that is absent (another command's) is not given."""
        given = Sources(args, environ)
        data = given.setting("data", "PREDBOT_DATA", Path, Path("var"))
        cache_home = Path(given.variable("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cls(models=given.setting("models", "PREDBOT_MODELS", Path),
                   default_model=given.setting("default_model"),
                   require_pins=given.setting("require_pins", default=False),
                   verbose=given.setting("verbose", default=False),
                   data=data,
                   demo_cache=given.setting("cache", "PREDBOT_CACHE", Path, cache_home / "predbot"),
                   history=given.setting("history", "PREDBOT_HISTORY", Path, Path.home() / ".predbot_history"),
                   user=given.setting("user", "USER", str, "terminal"),
                   store=given.setting("store", "PREDBOT_STORE_URL", str, f"sqlite:///{data / 'predbot.db'}"),
                   budget=Budget(**given.flags(seconds="answer_seconds", file_seconds="file_seconds",
                                               threads="scoring_threads")),
                   mail=mail_section(given, data), slack=slack_section(given), http=http_section(given, data))

    def models_dir(self) -> Path:
        """The models directory; the demo models' (built first if need be) when none is set."""
        if self.models is not None:
            if not self.models.is_dir():
                raise ConfigError(f"the models directory {self.models} does not exist (--models, $PREDBOT_MODELS)")
            return self.models
        from scoring.demo import demo_models_dir

        return demo_models_dir(self.demo_cache)


class Sources:
    """The one rule: the flag, if given; else its environment variable, if set; else the default."""

    def __init__(self, args: argparse.Namespace, environ: Mapping[str, str]) -> None:
        self.args, self.environ = args, environ

    def variable(self, name: str) -> str:
        return self.environ.get(name, "").strip()

    def setting(self, flag: str, variable: str | None = None, read: Callable[[str], Any] = str,
                default: Any = None) -> Any:
        """`read` turns the variable's text into what the flag's parser gives; what it refuses is a ConfigError."""
        if (value := getattr(self.args, flag, None)) is not None:
            return value
        if not (variable and (text := self.variable(variable))):
            return default
        try:
            return read(text)
        except (ValueError, argparse.ArgumentTypeError) as error:
            raise ConfigError(f"{variable}: {error}") from None

    def flags(self, **fields: str) -> dict[str, Any]:
        """{field: value} of the flags given (`field="flag"`), so the section's own defaults fill in the rest."""
        return {name: value for name, flag in fields.items() if (value := getattr(self.args, flag, None)) is not None}

    def login(self, user: str, password: str) -> tuple[str, str] | None:
        """A user name and password from these two variables; None without the user."""
        name = self.variable(user)
        return (name, self.environ.get(password, "")) if name else None


def listed(read: Callable[[str], str]) -> Callable[[str], list[str]]:
    """A variable's reader for a repeatable flag, whose values come as a list."""
    return lambda text: [read(text)]


def mail_section(given: Sources, data: Path) -> mail.Settings:
    senders = given.setting("allow_senders", "PREDBOT_MAIL_ALLOWED_SENDERS", listed(mail.address_list), [])
    return mail.Settings(
        spool=given.setting("spool", default=data / "spool"), outbox=given.setting("outbox", default=data / "outbox"),
        ours=AddressSet.parse(given.setting("bot_address", default=[mail.BOT_ADDRESS])),
        allowed=AddressSet.parse(senders),
        login=given.login("PREDBOT_SMTP_USER", "PREDBOT_SMTP_PASSWORD"),
        relay_login=given.login("PREDBOT_RELAY_USER", "PREDBOT_RELAY_PASSWORD"),
        **given.flags(host="smtp_host", port="smtp_port", tls_cert="smtp_tls_cert", tls_key="smtp_tls_key",
                      max_message_bytes="max_message_bytes", rate="rate_limit", max_commands="max_commands",
                      workers="mail_workers", keep_days="spool_keep_days", relay_host="relay_host",
                      relay_port="relay_port", relay_starttls="relay_starttls", relay_cafile="relay_cafile",
                      relay_attempts="relay_attempts", relay_backoff="relay_backoff"))


def slack_section(given: Sources) -> slack.Settings | None:
    """Slack's own variable names for its tokens; None when there is no SLACK_BOT_TOKEN."""
    token = given.variable("SLACK_BOT_TOKEN")
    if not token:
        return None
    return slack.Settings(
        bot_token=token, app_token=given.variable("SLACK_APP_TOKEN"),
        signing_secret=given.variable("SLACK_SIGNING_SECRET"),
        api_url=slack.api_url(given.setting("slack_api_url", "SLACK_API_URL", default=slack.SLACK_API_URL)),
        allowed_users=slack.ids(given.setting("slack_allow_users", "PREDBOT_SLACK_ALLOWED_USERS", listed(str), [])),
        allowed_channels=slack.ids(given.setting("slack_allow_channels", "PREDBOT_SLACK_ALLOWED_CHANNELS",
                                                 listed(str), [])),
        **given.flags(rate="slack_rate_limit", lease="slack_lease"))


def http_section(given: Sources, data: Path) -> http.Settings:
    """The HTTP server's; its API keys from --api-keys (digests) and $PREDBOT_API_KEYS (keys), both if given."""
    return http.Settings(
        keys=api_keys(given), cors_origins=tuple(given.setting("cors_origin", default=[])),
        batch_output=given.setting("batch_output", default=data / "batches"),
        **given.flags(host="host", port="port", workers="workers", rate="api_rate_limit",
                      max_body_bytes="max_body_bytes", max_rows="max_rows_per_request",
                      max_upload_bytes="max_upload_bytes", batch_input="batch_input", batch_tick="batch_tick"))


def api_keys(given: Sources) -> tuple[http.ApiKey, ...]:
    """What is refused names a line or an entry, never a key or its digest."""
    listed: tuple[http.ApiKey, ...] = ()
    if (path := given.setting("api_keys")) is not None:
        try:
            listed = http.key_file(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"--api-keys {path}: cannot read it ({error.strerror or error})") from None
        except ValueError as error:         # UnicodeDecodeError too: its message quotes no text
            raise ConfigError(f"--api-keys {path}: {error}") from None
    try:
        return http.unique([*listed, *http.environment_keys(given.variable("PREDBOT_API_KEYS"))])
    except ValueError as error:
        raise ConfigError(f"PREDBOT_API_KEYS: {error}") from None


# --- the flags; each defaults to None (not given), so that Sources can tell ---------------------------------


def global_options(default: Any = None) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name: a parent parser for the top parser (default
    None) and for each command (default SUPPRESS, so one not repeated after the name keeps the value before it)."""
    options = argparse.ArgumentParser(add_help=False)
    add = options.add_argument_group("settings (before or after the command)").add_argument
    add("--models", type=Path, metavar="DIR", default=default,
        help="models directory [$PREDBOT_MODELS] (default: the built-in demo models)")
    add("--default-model", metavar="NAME", default=default,
        help="the model `predict:` uses when none is named (default: the card that says `default: true`)")
    add("--require-pins", action="store_true", default=default,
        help="load only model files whose card pins them (`sha256:` in NAME.yaml); the log gives the digest to add")
    add("-v", "--verbose", action="store_true", default=default, help="log debug details to stderr")
    add("--data", type=Path, metavar="DIR", default=default,
        help="where predbot keeps its files: the mail spool and outbox, the store [$PREDBOT_DATA] (default var)")
    add("--store", metavar="URL", default=default,
        help="where predictions and feedback are kept: sqlite:///FILE or postgresql://USER@HOST/DATABASE "
             "[$PREDBOT_STORE_URL] (default sqlite:///DATA/predbot.db)")
    add("--cache", type=Path, metavar="DIR", default=default,
        help="where the demo models are built [$PREDBOT_CACHE] (default $XDG_CACHE_HOME/predbot, ~/.cache/predbot)")
    return options


def add_terminal_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument_group("terminal chat").add_argument
    add("--history", type=Path, metavar="FILE", help="the chat's line history [$PREDBOT_HISTORY] "
        "(default ~/.predbot_history)")
    add("--user", metavar="NAME", help="who the chat's messages come from [$USER] (default terminal)")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument_group("answers (every channel)").add_argument
    add("--answer-seconds", metavar="SECONDS", type=seconds,
        help=f"time budget for answering one command (default {Budget.seconds:g})")
    add("--file-seconds", metavar="SECONDS", type=seconds,
        help=f"time budget for scoring a message's CSV files (default {Budget.file_seconds:g})")
    add("--scoring-threads", metavar="N", type=count, help=f"messages scored at once (default {Budget.threads})")

    add = parser.add_argument_group("email").add_argument
    add("--smtp-host", metavar="HOST", help=f"address the SMTP server listens on (default {mail.Settings.host})")
    add("--smtp-port", metavar="PORT", type=int, help=f"SMTP port (default {mail.Settings.port}; 0 picks a free one)")
    add("--bot-address", action="append", type=mail.address_list, metavar="ADDRESS",
        help=f"address or @domain the bot answers; repeat or comma-separate (default {mail.BOT_ADDRESS})")
    add("--smtp-tls-cert", type=Path, metavar="FILE", help="certificate (PEM) to offer STARTTLS with")
    add("--smtp-tls-key", type=Path, metavar="FILE", help="its private key (PEM)")
    add("--max-message-bytes", metavar="BYTES", type=int, help="larger mail is refused with 552 (default 25 MiB)")
    add("--allow-senders", action="append", type=mail.address_list, metavar="ADDRESS",
        help="answer only these addresses or @domains; repeat or comma-separate; others get no reply "
             "[$PREDBOT_MAIL_ALLOWED_SENDERS] (default: everyone)")
    add("--rate-limit", metavar="RATE", type=mail.rate_limit,
        help="replies per address and period, e.g. 30/hour or 5/10min; 0 for none (default 30/hour)")
    add("--max-commands", metavar="N", type=int,
        help=f"commands answered per mail (default {mail.Settings.max_commands})")
    add("--mail-workers", metavar="N", type=count,
        help=f"mails answered at once; one conversation's in turn (default {mail.Settings.workers})")
    add("--spool", type=Path, metavar="DIR", help="where accepted mail waits (default DATA/spool)")
    add("--spool-keep-days", metavar="DAYS", type=float,
        help=f"how long the record of answered mail is kept to stop duplicates (default {mail.Settings.keep_days:g})")
    add("--outbox", type=Path, metavar="DIR",
        help="without --relay-host, replies are written here as .eml files (default DATA/outbox)")
    add("--relay-host", metavar="HOST", help="SMTP relay that sends the replies")
    add("--relay-port", metavar="PORT", type=int, help=f"relay port (default {mail.Settings.relay_port})")
    add("--relay-starttls", action="store_true", default=None, help="use STARTTLS with the relay")
    add("--relay-cafile", metavar="FILE", help="CA certificates to verify the relay with (default: the system's)")
    add("--relay-attempts", metavar="N", type=int,
        help=f"delivery attempts before a reply goes to dead/ (default {mail.Settings.relay_attempts})")
    add("--relay-backoff", metavar="SECONDS", type=float, help="seconds before the first retry, doubling each time "
        f"(default {mail.Settings.relay_backoff:g})")

    add = parser.add_argument_group("http (the API, Slack's HTTP mode, /metrics, /healthz, /readyz)").add_argument
    add("--host", "--slack-host", dest="host", metavar="HOST",
        help=f"address the HTTP server listens on (default {http.Settings.host}; a proxy in front adds TLS)")
    add("--port", "--slack-port", dest="port", metavar="PORT", type=int,
        help=f"its port (default {http.Settings.port}; 0 picks a free one)")
    add("--workers", metavar="N", type=count,
        help="processes serving the HTTP port side by side; the first also runs mail, Socket Mode and the chat "
             f"(default {http.Settings.workers})")
    add("--api-keys", type=Path, metavar="FILE",
        help="API keys: a line per key, `NAME SHA256 [MODEL,MODEL...]` (the sha256 of the key, in hex; the models it "
             "may use, default all), `#` comments. Also $PREDBOT_API_KEYS: the keys themselves, "
             "`NAME=KEY,NAME=KEY:MODEL+MODEL`. Without keys the API answers this machine only")
    add("--api-rate-limit", metavar="RATE", type=mail.rate_limit,
        help="API requests per key and period, e.g. 600/min; 0 for none (default 600/min, shared by every replica)")
    add("--max-body-bytes", metavar="BYTES", type=count,
        help=f"larger JSON requests are refused with 413 (default {http.Settings.max_body_bytes // http.MIB} MiB)")
    add("--max-rows-per-request", metavar="N", type=count,
        help=f"rows one predict request may hold (default {http.Settings.max_rows})")
    add("--max-upload-bytes", metavar="BYTES", type=count,
        help=f"larger batch uploads are refused with 413 (default {http.Settings.max_upload_bytes // http.MIB} MiB)")
    add("--cors-origin", action="append", metavar="ORIGIN",
        help="a web origin whose pages may call the API, like https://app.example.com; repeat for more "
             "(default: none)")
    add("--batch-tick", metavar="SECONDS", type=seconds,
        help=f"how often scheduled batches are looked for (default {http.Settings.batch_tick:g})")
    add_batch_arguments(parser)

    add = parser.add_argument_group("slack (with $SLACK_BOT_TOKEN)").add_argument
    add("--slack-api-url", metavar="URL", help=f"Slack's Web API [$SLACK_API_URL] (default {slack.SLACK_API_URL})")
    add("--slack-allow-users", action="append", metavar="ID", help="answer only these user IDs; repeat or "
        "comma-separate; DMs follow this list [$PREDBOT_SLACK_ALLOWED_USERS] (default: everyone)")
    add("--slack-allow-channels", action="append", metavar="ID", help="answer only in these channel IDs; repeat "
        "or comma-separate [$PREDBOT_SLACK_ALLOWED_CHANNELS] (default: every channel)")
    add("--slack-rate-limit", metavar="RATE", type=mail.rate_limit,
        help="answers per user and period, e.g. 20/min; 0 for none (default 20/min, shared by every replica)")
    add("--slack-lease", metavar="SECONDS", type=seconds, help="an answer acked by a replica that stops is "
        f"finished by another after this (default {slack.Settings.lease:g})")


def add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument_group("batches").add_argument
    add("--batch-input", type=Path, metavar="DIR",
        help="the directory a batch may name its input file under (default: none; batches upload their file)")
    add("--batch-output", type=Path, metavar="DIR", help="where batch results are written (default DATA/batches)")


def seconds(text: str) -> float:
    return positive(text, float, "a number of seconds above 0")


def count(text: str) -> int:
    return int(positive(text, int, "a whole number above 0"))


def positive(text: str, kind: type, expected: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        value = 0
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value
