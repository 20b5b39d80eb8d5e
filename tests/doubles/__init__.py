"""Test doubles: what stands where the outside world would be (Slack, an SMTP relay), and loop helpers.

They live beside the tests, never in the product's wheel; the benchmarks use
them too (bench/__init__.py puts tests/ on the import path).
"""
