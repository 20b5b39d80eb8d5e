"""The predbot command, run as a real subprocess the way a person runs it."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
import zipfile

import joblib
import pytest


@pytest.fixture(scope="module")
def predbot(demo_dir, tmp_path_factory):
    env = {**os.environ, "PREDBOT_CACHE": str(demo_dir.parent), "PREDBOT_DATA": str(tmp_path_factory.mktemp("data"))}

    def run(*args: str, stdin: str = "", **more_env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, env={**env, **more_env},
                              capture_output=True, text=True, timeout=120, check=False)

    return run


def test_models_lists_the_demo_models_with_version_and_kind(predbot):
    result = predbot("models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["churn", line.split()[1]] and "binary classifier" in line
               and "(default)" in line for line in lines)
    assert any(line.strip().startswith("iris") and "multiclass classifier" in line for line in lines)
    assert any(line.strip().startswith("diabetes") and "regression" in line for line in lines)


def test_schema_lists_fields_and_an_example(predbot):
    result = predbot("schema", "churn")
    assert result.returncode == 0, result.stderr
    assert "monthly_fee" in result.stdout and "also fee, price" in result.stdout
    assert "Example: predict: age=" in result.stdout


def test_score_writes_predictions_and_reasons(predbot, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,age,income\n1,45,60000\n2,45,sixty\n")
    out = tmp_path / "out.csv"
    result = predbot("score", str(source), "-o", str(out))
    assert result.returncode == 0, result.stderr
    # the same summary a CSV sent in chat gets
    assert (f"{source}: 1 of 2 rows predicted; 1 not (1 wrong type), see not_predicted_reason; "
            f"passed through: id. Results: {out}\n  [model churn v") in result.stderr
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["prediction"] in ("stays", "churns")
    assert rows[1]["not_predicted_reason"] == "income expects a number, got 'sixty'."


def test_score_refuses_a_missing_file_without_a_traceback(predbot, tmp_path):
    result = predbot("score", str(tmp_path / "nope.csv"))
    assert result.returncode == 1
    assert "nope.csv: not scored. It cannot be read: No such file or directory." in result.stderr
    assert "Traceback" not in result.stderr


def test_score_refuses_an_unknown_model(predbot, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("age\n1\n")
    result = predbot("score", str(source), "--model", "chrun")
    assert result.returncode == 1
    assert "Did you mean 'churn'?" in result.stderr


def test_ask_answers_and_exits_zero(predbot):
    result = predbot("ask", "predict iris: 5.1, 3.5, 1.4, 0.2")
    assert result.returncode == 0, result.stderr
    assert "setosa" in result.stdout


def test_ask_json_is_the_documented_contract(predbot):
    result = predbot("ask", "--json", "predict: age=45, income=60000")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"status", "body", "model", "version", "prediction_id", "files"}
    assert data["status"] == "ok" and data["model"] == "churn" and data["body"]["type"] == "prediction"
    [row] = data["body"]["rows"]
    assert row["prediction"] in ("stays", "churns")
    assert len(row["drivers"]) == 3
    assert {"feature", "value", "contribution", "direction"} == set(row["drivers"][0])


def test_ask_parse_error_exits_one_with_a_caret(predbot):
    result = predbot("ask", "predict: age==45")
    assert result.returncode == 1
    assert "^" in result.stdout and "Traceback" not in result.stderr


def test_ask_unknown_model_exits_one(predbot):
    result = predbot("ask", "predict chrun: age=45")
    assert result.returncode == 1
    assert "Did you mean 'churn'?" in result.stdout


def test_chat_answers_each_line_until_end_of_input(predbot):
    result = predbot("chat", stdin="models\npredict: age=45, income=60000\nquit\nmodels\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("predbot: ask me for predictions. Try:")
    assert result.stdout.count("binary classifier") == 1  # `quit` ended the chat before the last line
    assert "confident" in result.stdout


def test_chat_json_prints_one_object_per_line(predbot):
    result = predbot("chat", "--json", stdin="models\nhelp\n")
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["body"]["type"] for r in replies] == ["models", "help"]


HEAVY = ("sklearn", "shap", "pandas", "numpy", "scipy", "slack_bolt", "slack_sdk", "aiohttp", "aiosmtpd", "lark",
         "sqlalchemy", "alembic", "psycopg", "pyarrow", "dask", "distributed", "bot.core", "bot.serve", "bot.store")


def test_help_imports_nothing_heavy():
    """`predbot --help` and each command's help answer at once: nothing that loads a model or a channel."""
    probe = f"""
import contextlib, io, sys
from bot.cli import build_parser
parser = build_parser()
for argv in [["--help"], ["--version"], *([name, "--help"] for name in parser._subparsers._group_actions[0].choices)]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        parser.parse_args(argv)
print(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r} or m in {HEAVY!r}))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


READING = ("shap", "alembic")   # what listing the models and showing a schema has no use for: explainers, migrations


def test_models_and_schema_load_models_without_shap(demo_dir):
    """They read each model's kind, version and fields, never its drivers."""
    probe = f"""
import contextlib, io, sys
from bot.cli import main
for argv in (["models"], ["schema"], ["schema", "iris"]):
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv) == 0, argv
print(sorted(m for m in sys.modules if m.split(".")[0] in {READING!r}))
"""
    result = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "PREDBOT_CACHE": str(demo_dir.parent)},
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


def test_version_is_the_installed_one(predbot):
    from importlib.metadata import version

    result = predbot("--version")
    assert (result.returncode, result.stdout) == (0, f"predbot {version('predbot')}\n")


@pytest.mark.parametrize("argv", [["--models", "DIR", "-v", "--data", "D", "score", "f.csv"],
                                  ["score", "f.csv", "--models", "DIR", "-v", "--data", "D"],
                                  ["--models", "ELSE", "score", "-v", "f.csv", "--models", "DIR", "--data", "D"]])
def test_settings_work_before_or_after_the_command_and_the_last_one_wins(argv):
    from pathlib import Path

    from bot.cli import build_parser
    from bot.config import Config

    config = Config.from_args(build_parser().parse_args(argv), {})
    assert (config.models, config.verbose, config.data, config.require_pins) == (Path("DIR"), True, Path("D"), False)


def test_a_setting_after_the_command_is_used(predbot):
    after, before = predbot("models", "--default-model", "iris"), predbot("--default-model", "iris", "models")
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    assert any(line.strip().startswith("iris") and "(default)" in line for line in after.stdout.splitlines())


def test_a_setting_that_cannot_work_is_one_line_and_exit_two(predbot):
    result = predbot("serve", "--no-chat", PREDBOT_MAIL_ALLOWED_SENDERS="ann")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "predbot: PREDBOT_MAIL_ALLOWED_SENDERS: not an address or @domain: ann\n"


def test_a_models_directory_that_is_not_there_is_one_line_and_exit_two(predbot, tmp_path):
    missing = tmp_path / "modles"
    for result in (predbot("models", "--models", str(missing)), predbot("ask", "models", PREDBOT_MODELS=str(missing))):
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr == f"predbot: the models directory {missing} does not exist (--models, $PREDBOT_MODELS)\n"


def test_a_reader_that_goes_away_early_gets_no_traceback(demo_dir):
    """`predbot ask --json ... | head -1`: a real pipe whose reading end is closed before predbot writes."""
    asking = subprocess.Popen([sys.executable, "-m", "bot.cli", "ask", "--json", "predict: age=45, income=60000"],
                              env={**os.environ, "PREDBOT_CACHE": str(demo_dir.parent)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    asking.stdout.close()
    _, errors = asking.communicate(timeout=120)
    assert asking.returncode == 1, errors      # what Python's docs advise for EPIPE
    assert b"Traceback" not in errors and b"BrokenPipe" not in errors and b"Exception ignored" not in errors


def test_score_refuses_a_workbook_saying_what_it_is_and_what_to_do(predbot, tmp_path):
    source = tmp_path / "people.csv"
    with zipfile.ZipFile(source, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/workbook.xml", "<workbook/>")
    result = predbot("score", str(source))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"{source}: not scored. This file looks like an Excel workbook (.xlsx); a CSV "
                                    "file is plain text. Open it in your spreadsheet program and save it as CSV "
                                    "UTF-8 (File > Save As).\n")


def test_score_names_the_line_that_does_not_fit_the_header(predbot, tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,age,income\n1,45,60000\n2,30,40,000\n")
    result = predbot("score", str(source), "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 1
    assert result.stderr.startswith(f"{source}: not scored. Line 3 has 4 values; the header has 3.")
    assert "Traceback" not in result.stderr and "C error" not in result.stderr


def test_chat_answers_each_command_of_a_paste(demo_dir, tmp_path):
    """On a terminal, readline hands `input()` a pasted block whole (bracketed paste): each command is answered."""
    env = {**os.environ, "PREDBOT_CACHE": str(demo_dir.parent), "PREDBOT_HISTORY": str(tmp_path / "history"),
           "HOME": str(tmp_path), "TERM": "xterm", "INPUTRC": os.devnull}
    screen, terminal = pty.openpty()
    chat = subprocess.Popen([sys.executable, "-m", "bot.cli", "chat"], stdin=terminal, stdout=terminal,
                            stderr=terminal, env=env)
    os.close(terminal)
    try:
        shown(screen, until=b"> ")
        os.write(screen, b"\x1b[200~predict: age=45, income=60000\npredict iris: 5.1, 3.5, 1.4, 0.2\x1b[201~\r")
        os.write(screen, b"quit\r")
        answers = shown(screen).decode().replace("\r\n", "\n")
        assert chat.wait(timeout=30) == 0
    finally:
        chat.kill()
        os.close(screen)
    churn, iris = answers.find("age=45, income=60000\n  -> "), answers.find("5.1, 3.5, 1.4, 0.2\n  -> setosa")
    assert 0 < churn < iris and answers.count("confident") == 2
    assert "expected" not in answers


def shown(screen: int, until: bytes | None = None, seconds: float = 60) -> bytes:
    """What the terminal shows up to `until`, or until the program closes it (Linux reads EIO then)."""
    seen, deadline = b"", time.monotonic() + seconds
    while until is None or until not in seen:
        ready, _, _ = select.select([screen], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"the terminal showed nothing more after {seen[-300:]!r}"
        try:
            chunk = os.read(screen, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            assert until is None, f"the chat ended before showing {until!r}: {seen[-300:]!r}"
            break
        seen += chunk
    return seen


def test_models_gives_the_operator_each_file_that_did_not_load_with_why_and_exits_one_when_none_did(predbot, tmp_path):
    joblib.dump({"not": "a model"}, tmp_path / "broken.joblib")
    joblib.dump({"not": "a model"}, tmp_path / "card.joblib")
    (tmp_path / "card.yaml").write_text("explainer: magic\n")
    result = predbot("models", "--models", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ("Not loaded:\n"
                             "  broken: broken.joblib holds a dict, not a fitted model\n"
                             "  card: card.yaml: explainer must be one of auto, tree, linear, permutation\n")
    asked = predbot("ask", "models", "--models", str(tmp_path))    # what a chat hears: the names, not why
    assert asked.stdout == "Not loaded: broken, card (the bot's owner can see why in the log).\n"


def test_models_exits_one_on_an_empty_models_directory(predbot, tmp_path):
    result = predbot("models", "--models", str(tmp_path))
    assert (result.returncode, result.stdout) == (1, "No models are installed.\n")


def test_score_reads_a_semicolon_file_with_a_column_map_and_a_decimal_mark(predbot, tmp_path):
    source = tmp_path / "kunden.csv"
    source.write_text("Jahre;income\n45;60000,5\n")
    out = tmp_path / "out.csv"
    result = predbot("score", str(source), "--map", "Jahre=age", "--decimal", ",", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"{source}: 1 of 1 rows predicted. Results: {out}")
    assert list(csv.DictReader(out.open()))[0]["prediction"] in ("stays", "churns")


@pytest.mark.parametrize("argv", [["--map", "age"], ["--map", "=age"], ["--decimal", ";"]])
def test_score_refuses_a_column_map_or_decimal_mark_it_cannot_use(predbot, tmp_path, argv):
    result = predbot("score", str(tmp_path / "in.csv"), *argv)
    assert result.returncode == 2 and "usage: predbot score" in result.stderr
    assert "expected COLUMN=FIELD, like 'Years=age'" in result.stderr or "invalid choice: ';'" in result.stderr


def test_score_names_columns_that_may_be_fields(predbot, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,agee,income\n1,45,60000\n")
    result = predbot("score", str(source), "-o", str(tmp_path / "out.csv"))
    assert "passed through: id, agee (did you mean age?)." in result.stderr


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_a_failed_score_leaves_an_existing_output_as_it_was(predbot, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("yesterday's results\n")
    out.chmod(0o640)
    bad = tmp_path / "bad.csv"
    bad.write_text("age,income\n45,60000\n30,1,2\n")
    result = predbot("score", str(bad), "-o", str(out))
    assert result.returncode == 1 and "Line 3 has 3 values" in result.stderr
    assert out.read_text() == "yesterday's results\n" and leftovers(tmp_path) == []
    good = tmp_path / "good.csv"
    good.write_text("age,income\n45,60000\n")
    assert predbot("score", str(good), "-o", str(out)).returncode == 0
    assert out.read_text().startswith("age,income,prediction,") and leftovers(tmp_path) == []
    assert out.stat().st_mode & 0o777 == 0o640


def test_an_interrupted_score_leaves_an_existing_output_as_it_was(demo_dir, tmp_path):
    from tests.doubles.loop import wait_until

    source, out = tmp_path / "big.csv", tmp_path / "out.csv"
    source.write_text("age,income\n" + "45,60000\n" * 50_000)
    out.write_text("yesterday's results\n")
    scoring = subprocess.Popen([sys.executable, "-m", "bot.cli", "score", str(source), "-o", str(out)],
                               env={**os.environ, "PREDBOT_CACHE": str(demo_dir.parent)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: leftovers(tmp_path), timeout=60)         # scoring has begun, into a new file
        scoring.send_signal(signal.SIGINT)
        _, errors = scoring.communicate(timeout=60)
    finally:
        scoring.kill()
    assert scoring.returncode == 130 and "Traceback" not in errors
    assert errors == f"{source}: stopped (Ctrl-C); {out} is as it was.\n"
    assert out.read_text() == "yesterday's results\n" and leftovers(tmp_path) == []


def test_the_score_progress_bar_counts_rows(demo_dir, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("age,income\n" + "45,60000\n" * 2500)
    screen, terminal = pty.openpty()
    termios.tcsetwinsize(screen, (24, 100))         # a new pty is 0 columns wide, where tqdm draws nothing
    scoring = subprocess.Popen([sys.executable, "-m", "bot.cli", "score", str(source), "-o", str(tmp_path / "o.csv")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal,
                               env={**os.environ, "PREDBOT_CACHE": str(demo_dir.parent)})
    os.close(terminal)
    try:
        bar = shown(screen).decode()
        assert scoring.wait(timeout=60) == 0, bar
    finally:
        scoring.kill()
        os.close(screen)
    assert re.search(r"in\.csv: 100%\|[^|]*\| 2\.50k/2\.50k \[[^]]* rows/s\]", bar), bar


def test_ask_points_many_rows_at_predbot_score(predbot):
    result = predbot("ask", "predict: " + "; ".join(f"age={20 + n}" for n in range(60)))
    assert result.returncode == 1
    assert "one message takes up to 50. Put the rows in a CSV file" in result.stdout and "`predbot score" in result.stdout


# --- the store: what the answering commands remember, and `predbot export` ------------------------------------


def test_ask_is_remembered_in_the_data_directory_and_export_writes_it(predbot, tmp_path):
    data = tmp_path / "data"
    asked = predbot("ask", "--json", "predict: age=45, income=60000", "--data", str(data))
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    out = tmp_path / "out.csv"
    exported = predbot("export", "-o", str(out), "--data", str(data), "--model", "churn", "--since", "2020-01-01")
    assert (exported.returncode, exported.stdout) == (0, f"1 row exported to {out}\n"), exported.stderr
    [line] = list(csv.DictReader(out.open()))
    assert (line["prediction_id"], line["sender"], line["channel"]) == (answer["prediction_id"], "terminal", "terminal")
    assert line["prediction"] == answer["body"]["rows"][0]["prediction"] and (data / "predbot.db").is_file()
    later = predbot("export", "-o", str(out), "--data", str(data), "--since", "2999-01-01T00:00+00:00")
    assert later.stdout == f"0 rows exported to {out}\n" and list(csv.DictReader(out.open())) == []


def test_export_to_parquet_from_a_postgresql_store_named_by_its_variable(predbot, postgres_url, tmp_path):
    import pyarrow.parquet as pq

    from tests.doubles.postgres import fresh_database

    with fresh_database(postgres_url) as url:
        asked = predbot("ask", "--json", "predict diabetes: age=50, bmi=30", PREDBOT_STORE_URL=url)
        assert asked.returncode == 0, asked.stderr
        out = tmp_path / "out.parquet"
        exported = predbot("export", "-o", str(out), PREDBOT_STORE_URL=url)
        assert exported.returncode == 0, exported.stderr
    [line] = pq.read_table(out).to_pylist()
    assert (line["prediction_id"], line["model"]) == (json.loads(asked.stdout)["prediction_id"], "diabetes")
    assert line["value"] == pytest.approx(json.loads(asked.stdout)["body"]["rows"][0]["value"])


@pytest.mark.parametrize("url", ["mysql://db/predbot", "postgresql://predbot@127.0.0.1:{port}/predbot"])
def test_a_store_that_cannot_work_is_one_line_and_exit_two(predbot, url):
    from tests.doubles.postgres import free_port

    url = url.format(port=free_port())
    for result in (predbot("ask", "models", "--store", url), predbot("export", "-o", "x.csv", PREDBOT_STORE_URL=url)):
        assert (result.returncode, result.stdout) == (2, "")
        assert result.stderr.startswith(f"predbot: the store {url} ") and result.stderr.count("\n") == 1
        assert result.stderr.endswith(" (--store, $PREDBOT_STORE_URL)\n")


@pytest.mark.parametrize(("argv", "error"), [(["-o", "out.xlsx"], "expected a file ending in .csv or .parquet"),
                                             (["-o", "out.csv", "--since", "yesterday"], "expected a date like"),
                                             ([], "the following arguments are required: -o/--output")])
def test_export_refuses_a_file_or_date_it_cannot_use(predbot, argv, error):
    result = predbot("export", *argv)
    assert result.returncode == 2 and "usage: predbot export" in result.stderr and error in result.stderr



def test_chat_remembers_a_prediction_lists_it_and_takes_feedback_on_it_the_next_time(predbot, tmp_path):
    data = str(tmp_path / "data")
    first = predbot("chat", "--data", data, stdin="predict iris: 5.1, 3.5, 1.4, 0.2\nhistory\n")
    assert first.returncode == 0, first.stderr
    [prediction_id] = re.findall(r"· id ([0-9a-f]{12})\]", first.stdout)
    assert re.search(rf"^  {prediction_id}  \S+ \S+ UTC  iris  5.1, 3.5, 1.4, 0.2 -> setosa \(", first.stdout,
                     re.MULTILINE)
    again = predbot("chat", "--data", data, stdin=f"feedback {prediction_id} actual=setosa\nshow {prediction_id}\n"
                                                  "feedback 0123456789ab actual=setosa\nmodels\n")
    assert again.returncode == 0, again.stderr
    assert f"Noted: {prediction_id} was setosa; predicted setosa, so it was right." in again.stdout
    assert "Asked " in again.stdout and "Feedback: really setosa" in again.stdout
    assert "I have no prediction with id 0123456789ab." in again.stdout
    assert re.search(r"^ +Live accuracy: v\w+ 100% right \(1 of 1 with feedback\)$", again.stdout, re.MULTILINE)


def test_a_chat_session_follows_up_its_own_last_prediction_and_a_new_session_or_an_ask_does_not(predbot, tmp_path):
    data = str(tmp_path / "data")
    first = predbot("chat", "--data", data, stdin="predict: age=45, income=60000, support_calls=4\n"
                                                  "whatif: income=80000\n")
    assert first.returncode == 0, first.stderr
    prediction_id, whatif_id = re.findall(r"· id ([0-9a-f]{12})\]", first.stdout)
    assert f"built on {prediction_id}, the last prediction here\nwhat if income: 60k -> 80k\n" in first.stdout
    nothing = "Nothing to build on here yet: give the whole row, `whatif: age=45, income=60000 -> income=80000`"
    later = predbot("chat", "--data", data, stdin="whatif: income=90000\n")
    assert later.returncode == 0 and nothing in later.stdout and whatif_id not in later.stdout
    asked = predbot("ask", "--data", data, "whatif: income=90000")
    assert asked.returncode == 1 and nothing in asked.stdout
