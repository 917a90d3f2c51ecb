"""`make bench`: the production configuration under load, each endpoint against its floor.

Run it as `scripts/with-postgres.sh .venv/bin/python -m bench` (what `make bench` does); see
docs/performance.md for what it measures and how to read the table it prints and writes to
bench-results/. BENCH_QUICK=1 runs a short version for iteration.
"""
