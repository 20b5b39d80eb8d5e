"""`python -m bench` (or `make bench`): the in-process benchmarks, one after the other."""

from bench import reply_bench, scoring_bench

print("== reply path ==")
reply_bench.main([])
print("\n== batch scoring ==")
scoring_bench.main([])
