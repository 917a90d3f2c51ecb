#!/usr/bin/env python3
"""Push a CSV of stock counts to TechParts, then follow the stock change feed.

Standard library only. Walk-through and the rules behind each step: docs/sync.md.

    export TECHPARTS_URL=http://127.0.0.1:8000 TECHPARTS_KEY=tp_live_...
    python3 examples/sync_counts.py push counts.csv --reference wms://cycle-count/CC-2026-11-28
    python3 examples/sync_counts.py follow --state changes.cursor            # until caught up
    python3 examples/sync_counts.py follow --state changes.cursor --forever  # keep polling

The CSV has a header row with `sku` and `quantity` (the counted on-hand), and optionally
`expected_quantity` (refuse the row if stock moved since you read it), `reason_code` and
`reason`. Rows are sent 2,000 per call (the endpoint's maximum) with the error policy
`reject_failed_items`, so one bad row does not hold up the others; every failed row is printed.

Each call carries an Idempotency-Key derived from the reference and the rows it sends, so
re-running the same file with the same reference within the key's lifetime (24 hours by
default) replays the first answers instead of writing twice; retries after a timeout or a 5xx
are always safe.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

BULK_MAX_ITEMS = 2000
FEED_PAGE = 1000
# Retried: the request may not have been applied, or was refused only for now.
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
POLL_SECONDS = 5.0
TIMEOUT_SECONDS = 30.0


class ApiError(Exception):
    """An answer not worth retrying (400, 401, 403, 404, 409, 413, 422...): fix and rerun."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(f"HTTP {status} {body.get('error')}: {body.get('message')}")
        self.status = status
        self.body = body


class Client:
    def __init__(self, base_url: str, key: str, *, sleep=time.sleep) -> None:
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise SystemExit(f"TECHPARTS_URL must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.sleep = sleep

    def call(
        self, method: str, path: str, *, body: dict | None = None, idempotency_key: str = ""
    ) -> dict:
        """Send one request, retrying transient failures with backoff; return the JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key  # the same key on every retry
        for attempt in range(1, MAX_ATTEMPTS + 1):
            request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
                self.base_url + path, data=data, method=method, headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                    return json.load(response)
            except urllib.error.HTTPError as error:
                answer = _json_or_empty(error.read())
                # A 409 with Retry-After: this Idempotency-Key is being processed right now
                # (e.g. an attempt that timed out here); the retry replays its answer.
                busy = error.code == 409 and error.headers.get("Retry-After") is not None
                if (error.code not in RETRY_STATUSES and not busy) or attempt == MAX_ATTEMPTS:
                    raise ApiError(error.code, answer) from None
                wait = _retry_after(error.headers.get("Retry-After"), attempt)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                # No answer: the call may or may not have been applied. Only a call with an
                # Idempotency-Key (or a read) is safe to send again.
                if attempt == MAX_ATTEMPTS or (method != "GET" and not idempotency_key):
                    raise
                wait = _backoff(attempt)
                print(f"  network error ({error}); retrying in {wait:.1f}s", file=sys.stderr)
            self.sleep(wait)
        raise AssertionError("unreachable")


def _json_or_empty(raw: bytes) -> dict:
    try:
        answer = json.loads(raw)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter: 0..1 s, 0..2 s, 0..4 s ... capped at 60 s."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)


def _retry_after(header: str | None, attempt: int) -> float:
    if header and header.strip().isdigit():
        return min(float(header), BACKOFF_CAP_SECONDS * 5)
    return _backoff(attempt)


# Pushing counts


def read_counts(path: Path) -> list[dict]:
    """Return the CSV's rows as bulk items; refuse a file that could not be what was meant."""
    items = []
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        missing = {"sku", "quantity"} - set(reader.fieldnames or [])
        if missing:
            raise SystemExit(f"{path}: the header needs the columns {sorted(missing)}")
        for line, row in enumerate(reader, start=2):
            if not any((value or "").strip() for value in row.values()):
                continue  # a blank line
            item: dict = {
                "sku": row["sku"].strip(),
                "quantity": _whole(row["quantity"], path, line),
            }
            if (row.get("expected_quantity") or "").strip():
                item["expected_quantity"] = _whole(row["expected_quantity"], path, line)
            for name in ("reason_code", "reason"):
                if (row.get(name) or "").strip():
                    item[name] = row[name].strip()
            items.append(item)
    return items


def _whole(text: str, path: Path, line: int) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise SystemExit(f"{path}:{line}: {text!r} is not a whole number") from None


def chunks(items: list[dict], size: int = BULK_MAX_ITEMS) -> Iterator[list[dict]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def push(client: Client, items: list[dict], *, reference: str) -> int:
    """Send the items in calls of at most 2,000; print each failure; return how many failed."""
    failed = 0
    for number, chunk in enumerate(chunks(items), start=1):
        body = {"reference": reference, "error_policy": "reject_failed_items", "items": chunk}
        # Same rows, same reference -> same key: a rerun replays instead of writing twice.
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:40]
        answer = client.call(
            "POST", "/v1/inventory/bulk", body=body, idempotency_key=f"counts-{digest}"
        )
        summary = answer["summary"]
        print(
            f"call {number}: {summary['applied']} applied, {summary['unchanged']} unchanged, "
            f"{summary['failed']} failed (adjustment group {answer['adjustment_group']})"
        )
        for item in answer["items"]:
            if item["outcome"] == "failed":
                failed += 1
                print(f"  {item['sku']}: {item['error']}: {item['message']}")
    return failed


# Following the change feed


def follow(client: Client, state: Path, *, forever: bool) -> int:
    """Print every change after the saved cursor; save the cursor after each page.

    The version rule (docs/sync.md): a SKU's change is applied (here: printed) only if its
    `version` is newer than the one held for that SKU; an older one arrived late and is
    already superseded, so it is skipped. The versions held are saved beside the cursor.
    """
    cursor = state.read_text().strip() if state.exists() else ""
    versions_file = state.with_suffix(".versions.json")
    versions: dict[str, int] = (
        json.loads(versions_file.read_text()) if versions_file.exists() else {}
    )
    seen = 0
    while True:
        query = {"limit": FEED_PAGE, **({"after": cursor} if cursor else {})}
        page = client.call("GET", "/v1/inventory/changes?" + urllib.parse.urlencode(query))
        for change in page["results"]:
            sku, version = change["sku"], change["version"]  # null: from before versions
            held = versions.get(sku)
            if version is not None and held is not None and version <= held:
                print(f"change {change['id']}: {sku} version {version} is not newer than {held}")
                continue
            print(
                f"change {change['id']}: {sku} {change['kind']} "
                f"({change['reason_code']}) on hand {change['quantity_before']} -> "
                f"{change['quantity_after']}, available {change['available_after']} "
                f"(version {version})"
            )
            if version is not None:
                versions[sku] = version
            seen += 1
        # Saved after the page is handled: a crash replays at most this page (at least once),
        # and the versions held make a replayed change harmless.
        _save(versions_file, json.dumps(versions))
        cursor = page["next_cursor"]
        _save(state, cursor)
        if page["has_more"]:
            continue
        if not forever:
            return seen
        client.sleep(POLL_SECONDS)


def _save(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    push_parser = commands.add_parser("push", help="send a CSV of counts")
    push_parser.add_argument("csv", type=Path)
    push_parser.add_argument("--reference", required=True, help="e.g. wms://cycle-count/CC-1")
    follow_parser = commands.add_parser("follow", help="print changes after the saved cursor")
    follow_parser.add_argument("--state", type=Path, default=Path("changes.cursor"))
    follow_parser.add_argument("--forever", action="store_true", help="keep polling")
    args = parser.parse_args(argv)

    key = os.environ.get("TECHPARTS_KEY")
    if not key:
        parser.error("set TECHPARTS_KEY to an API key (scopes inventory:read, inventory:write)")
    client = Client(os.environ.get("TECHPARTS_URL", "http://127.0.0.1:8000"), key)
    try:
        if args.command == "push":
            return 1 if push(client, read_counts(args.csv), reference=args.reference) else 0
        follow(client, args.state, forever=args.forever)
        return 0
    except ApiError as error:
        print(error, file=sys.stderr)
        for detail in error.body.get("details", []):
            print(f"  {detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
