"""Build the bench table (markdown) from a run's numbers, with each target met or not."""

import statistics

from bench.endpoints import PAIRS

ORDER_RATIO_TARGET = 2.0  # p50 at 50 lines <= 2x p50 at 1 line
CONTENTION_RATIO_TARGET = 0.5
CSV_RSS_TARGET_MB = 50.0
CSV_TIME_TARGET = 3.0  # export time <= 3x COPY
OUTBOX_GROWTH_TARGET = 0.15  # p50 with the outbox <= 1.15x p50 without
WEBHOOK_RATE_TARGET = 200.0  # events per second one worker delivers to a local receiver
OUTBOX_QUERIES_TARGET = 1  # statements the outbox adds to a stock change or an order
OVERVIEW_TARGET_MS = 1000.0  # issue 13: the stock overview (and a CSV) in under a second


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT MET")


def pair_row(pair, rounds: list[dict], queries: dict) -> dict:
    """Summarise the alternating rounds of one pair: medians, and the median per-round ratio."""
    endpoint = [r["endpoint"] for r in rounds]
    floor = [r["floor"] for r in rounds]

    def med(side, key):
        return statistics.median(r[key] for r in side)

    ratio = statistics.median(r["endpoint"]["rps"] / r["floor"]["rps"] for r in rounds)
    q = queries.get(f"{pair.name}|endpoint")
    ok = None
    if pair.target is not None:
        ok = ratio >= pair.target and (
            pair.max_queries is None or (q is not None and q <= pair.max_queries)
        )
    return {
        "endpoint": pair.name,
        "rps": med(endpoint, "rps"),
        "p50_ms": med(endpoint, "p50_ms"),
        "p99_ms": med(endpoint, "p99_ms"),
        "queries": q,
        "floor_rps": med(floor, "rps"),
        "floor_p50_ms": med(floor, "p50_ms"),
        "floor_p99_ms": med(floor, "p99_ms"),
        "floor_queries": queries.get(f"{pair.name}|floor"),
        "ratio": ratio,
        "errors": sum(
            r[s]["non_2xx"] + r[s]["socket_errors"] for r in rounds for s in ("endpoint", "floor")
        ),
        "target": pair.target,
        "max_queries": pair.max_queries,
        "met": ok,
    }


def build(results: dict) -> str:
    """Return the whole report as markdown: pairs, order sizes, contention, CSV, machine."""
    out = [f"# make bench {results['started']}", ""]
    out += [f"- {k}: {v}" for k, v in results["machine"].items()]
    out += ["", "## Endpoints against their floors (HTTP, wrk, gunicorn production config)", ""]
    out.append(
        "| endpoint | rps | p50 ms | p99 ms | queries/req | floor rps | floor p50 ms | floor p99 ms "
        "| floor queries | ratio (rps) | target | met | non-2xx |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|")
    for row in results["pairs"]:
        target = "" if row["target"] is None else f">= {row['target']}x"
        if row["max_queries"] is not None:
            target += f", <= {row['max_queries']} query"
        out.append(
            f"| {row['endpoint']} | {row['rps']:.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
            f"| {row['queries']} | {row['floor_rps']:.0f} | {row['floor_p50_ms']:.1f} "
            f"| {row['floor_p99_ms']:.1f} | {row['floor_queries']} | {row['ratio']:.2f}x "
            f"| {target or 'none'} | {_met(row['met'])} | {row['errors']} |"
        )
    lines = results.get("order_lines")
    if lines:
        sizes = sorted(lines, key=int)
        ratio = lines[sizes[-1]]["p50_ms"] / lines[sizes[0]]["p50_ms"]
        flat = len({lines[s]["queries"] for s in sizes}) == 1
        out += ["", "## POST /v1/orders by size (in process, Django test client, PostgreSQL)", ""]
        out.append("| lines | p50 ms | queries |")
        out.append("|---:|---:|---:|")
        out += [f"| {s} | {lines[s]['p50_ms']:.1f} | {lines[s]['queries']} |" for s in sizes]
        out.append("")
        out.append(
            f"p50({sizes[-1]}) / p50({sizes[0]}) = **{ratio:.2f}x** (target <= "
            f"{ORDER_RATIO_TARGET}x: {_met(ratio <= ORDER_RATIO_TARGET)}); queries constant in "
            f"lines: {_met(flat)}"
        )
    outbox = results.get("outbox")
    if outbox:
        out += [
            "",
            "## The outbox's cost (in process, Django test client, PostgreSQL; the events "
            "statement on and off in alternating blocks of 25 requests)",
            "",
        ]
        out.append(
            "| request | p50 ms with | p50 ms without | p50 growth | queries with | without |"
        )
        out.append("|---|---:|---:|---:|---:|---:|")
        names = {"patch": "PATCH /v1/inventory/{sku}", "order": "POST /v1/orders (3 lines)"}
        for kind, name in names.items():
            r = outbox[kind]
            out.append(
                f"| {name} | {r['with_p50_ms']:.2f} | {r['without_p50_ms']:.2f} "
                f"| {r['growth'] * 100:+.1f}% | {r['with_queries']} | {r['without_queries']} |"
            )
        http = results.get("outbox_http") or {}
        for kind, row in http.items():
            rounds = row["rounds"]
            with_p50 = statistics.median(r["with"]["p50_ms"] for r in rounds)
            without_p50 = statistics.median(r["without"]["p50_ms"] for r in rounds)
            outbox[kind]["http_growth"] = with_p50 / without_p50 - 1
            out.append(
                f"| {row['name']} over HTTP (wrk, production config) | {with_p50:.2f} "
                f"| {without_p50:.2f} | {(with_p50 / without_p50 - 1) * 100:+.1f}% | | |"
            )
        growth_ok = all(
            outbox[k].get("http_growth", outbox[k]["growth"]) <= OUTBOX_GROWTH_TARGET for k in names
        )
        added = max(outbox[k]["with_queries"] - outbox[k]["without_queries"] for k in names)
        out.append("")
        out.append(
            f"- p50 growth at most {OUTBOX_GROWTH_TARGET * 100:.0f}% (over HTTP where measured): "
            f"{_met(growth_ok)}; "
            f"queries added at most {OUTBOX_QUERIES_TARGET}: {added} ({_met(added <= OUTBOX_QUERIES_TARGET)})"
        )
    c = results.get("contention")
    if c:
        shared, disjoint = c["shared"], c["disjoint"]
        ratio = shared["throughput"] / disjoint["throughput"] if disjoint["throughput"] else 0.0
        out += ["", f"## Hot-SKU contention ({c['description']})", ""]
        out.append("| case | orders | orders/s | 5xx | statuses | deadlocks (pg_stat_database) |")
        out.append("|---|---:|---:|---:|---|---:|")
        for name in ("shared", "disjoint"):
            r = c[name]
            out.append(
                f"| {name} | {r['orders']} | {r['throughput']:.1f} | {r['server_errors']} "
                f"| {r['statuses']} | {r['deadlocks']} |"
            )
        errors = shared["server_errors"] + disjoint["server_errors"]
        deadlocks = shared["deadlocks"] + disjoint["deadlocks"] + shared["deadlock_bodies"]
        out.append("")
        out.append(f"- 5xx: {errors} (target 0: {_met(errors == 0)})")
        out.append(f"- deadlocks: {deadlocks} (target 0: {_met(deadlocks == 0)})")
        out.append(
            f"- throughput shared / disjoint: **{ratio:.2f}x** (target >= "
            f"{CONTENTION_RATIO_TARGET}x: {_met(ratio >= CONTENTION_RATIO_TARGET)})"
        )
        out.append(f"- reconcile_stock afterwards: {c['reconcile']} ({_met(c['reconcile_ok'])})")
        for sample in shared["error_samples"] + disjoint["error_samples"]:
            out.append(f"  - sample: `{sample}`")
    b = results.get("bulk")
    if b:
        ok = b["ratio"] <= b["target"] and not b["bad_statuses"]
        out += [
            "",
            f"## Bulk stock write vs single PATCH ({b['items']} SKUs, HTTP, one connection, "
            "one request at a time)",
            "",
        ]
        out.append("| calls | total ms | per SKU ms |")
        out.append("|---|---:|---:|")
        out.append(
            f"| {b['items']} x PATCH /v1/inventory/{{sku}} | {b['patch_seconds'] * 1000:.0f} "
            f"| {b['patch_round_trip_ms']:.2f} |"
        )
        out.append(
            f"| 1 x POST /v1/inventory/bulk (median of {len(b['bulk_samples_ms'])}) "
            f"| {b['bulk_ms']:.0f} | {b['bulk_per_item_ms']:.3f} |"
        )
        out.append("")
        out.append(
            f"- bulk per item / PATCH round trip: **{b['ratio']:.4f}** (1/{1 / b['ratio']:.0f}; "
            f"target <= 1/{1 / b['target']:.0f}: {_met(ok)}); answer {b['answer_bytes'] / 1e3:.0f} "
            f"KB; non-200: {b['bad_statuses'] or 0}"
        )
    csv = results.get("csv")
    if csv:
        ratio = csv["export"]["seconds"] / csv["copy"]["seconds"]
        rss = csv["export"]["rss_growth_mb"]
        out += [
            "",
            f"## CSV export of {csv['rows']} ledger rows (admin export as staff, in process)",
            "",
        ]
        out.append("| method | seconds | MB | lines | peak RSS growth MB |")
        out.append("|---|---:|---:|---:|---:|")
        out.append(
            f"| admin export | {csv['export']['seconds']:.2f} | {csv['export']['bytes'] / 1e6:.1f} "
            f"| {csv['export']['lines']} | {rss:.1f} |"
        )
        out.append(
            f"| COPY TO STDOUT | {csv['copy']['seconds']:.2f} | {csv['copy']['bytes'] / 1e6:.1f} "
            f"| {csv['copy']['lines']} | |"
        )
        out.append("")
        out.append(
            f"- peak RSS growth {rss:.1f} MB (target < {CSV_RSS_TARGET_MB:.0f} MB: {_met(rss < CSV_RSS_TARGET_MB)})"
        )
        out.append(
            f"- time export / COPY: **{ratio:.2f}x** (target <= {CSV_TIME_TARGET}x: {_met(ratio <= CSV_TIME_TARGET)})"
        )
        out.append(f"- reconcile_stock after the extra rows: {csv['reconcile']}")
    out += _overview(results.get("overview"))
    w = results.get("webhooks")
    if w:
        rate = w["events_per_second"]
        out += [
            "",
            f"## Webhook delivery: one `manage.py db_worker` ({w['concurrency']} threads), "
            f"{w['events']} events to a local receiver",
            "",
            f"- {w['events']} deliveries in {w['seconds']:.1f} s from the worker's start: "
            f"**{rate:.0f} events/s** (target >= {WEBHOOK_RATE_TARGET:.0f}: "
            f"{_met(rate >= WEBHOOK_RATE_TARGET)}); {w['steady_events_per_second']:.0f} events/s "
            f"after the first delivery ({w['worker_start_seconds']:.1f} s to start)",
        ]
    out += ["", f"Total run time: {results.get('elapsed_s', 0):.0f} s", ""]
    return "\n".join(out)


def _overview(o: dict | None) -> list[str]:
    """The stock overview section: page and CSV against the floor, and in absolute time."""
    if not o:
        return []
    floor = o["floor"]["p50_ms"]
    out = [
        "",
        f"## Stock overview (admin page as staff, in process; {o['ledger_rows']} ledger rows, "
        f"{o['rows_in_period']} in the period `{o['period']}`, {o['products']} products)",
        "",
        "| request | p50 ms | max ms | queries | floor p50 ms | ratio (p50 / floor) "
        "| under 1 s (p50) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, label in (("page", "overview page"), ("csv", f"CSV `{o['csv_chart']}`")):
        r = o[name]
        ok = r["p50_ms"] < OVERVIEW_TARGET_MS
        out.append(
            f"| {label} | {r['p50_ms']:.0f} | {r['max_ms']:.0f} | {r.get('queries', '')} "
            f"| {floor:.0f} | {r['p50_ms'] / floor:.2f}x | {_met(ok)} |"
        )
    out.append(
        f"| floor (the 4 aggregate statements, hand-written) | {floor:.0f} "
        f"| {o['floor']['max_ms']:.0f} | {o['floor']['queries']} | | | |"
    )
    out.append("")
    out.append(f"- reconcile_stock after the extra rows: {o['reconcile']}")
    return out


__all__ = ["PAIRS", "build", "pair_row"]
