"""One line of documentation per command of grammar.lark, for `help` and the README."""

from parser.commands import CommandDoc

COMMANDS: tuple[CommandDoc, ...] = (
    CommandDoc("predict", "predict [MODEL]: key=value, ... [; more rows]",
               "Score one or more rows", "predict: age=45, income=60000"),
    CommandDoc("whatif", "whatif [MODEL]: [key=value, ... ->] key=value, ...",
               "Compare a row (else the last prediction here) with a changed copy of it",
               "whatif: age=45, income=60000 -> income=80000"),
    CommandDoc("explain", "explain [MODEL]",
               "What drives a model's predictions overall", "explain churn"),
    CommandDoc("schema", "schema [MODEL]  (or fields [MODEL])",
               "A model's fields, their types and an example", "schema churn"),
    CommandDoc("models", "models",
               "The models you can ask", "models"),
    CommandDoc("history", "history [N] [MODEL]",
               "Your own last N predictions (10 unless N; at most 50)", "history 5 churn"),
    CommandDoc("show", "show ID",
               "One prediction again, by the id its reply ends with", "show 3f2a9c0d1e4b"),
    CommandDoc("feedback", "feedback ID [row=N] actual=VALUE",
               "What really happened, for the model's live accuracy", "feedback 3f2a9c0d1e4b actual=churns"),
    CommandDoc("help", "help [TOPIC]",
               "How to ask; `help values` for how to write values", "help predict"),
)
