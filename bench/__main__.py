"""`python -m bench` (or `make bench`): every benchmark, one after the other."""

from bench import (api_bench, cli_bench, mail_bench, reply_bench, score_bench, scoring_bench, slack_bench, store_bench,
                   targets)

print("== predbot --help ==")
cli_bench.main([])
print("\n== reply path ==")
reply_bench.main([])
print("\n== batch scoring ==")
scoring_bench.main([])
print("\n== predbot score on every core ==")
score_bench.main([])
print("\n== slack /predict ==")
slack_bench.main([])
print("\n== HTTP API predict ==")
api_bench.main([])
print("\n== email ==")
mail_bench.main([])
print("\n== store ==")
store_bench.main([])
print("\n== the targets (issues 12 and 13), this run ==")
print(targets.table())
