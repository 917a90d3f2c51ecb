"""Bench-only floor views: the least Django can do for each API endpoint (`make bench`).

Each view does the database work its endpoint cannot avoid, with no DRF, no serializer, no
authentication and no checks, so `make bench` can report each endpoint as a ratio of its floor.
They exist only when the BENCH_FLOOR_VIEWS setting is on (techparts/urls.py), and
`manage.py check --deploy` fails while it is (shop/floor/checks.py), so production never serves
them. Their writes keep the ledger exact: `reconcile_stock` still holds after a bench run.
"""
