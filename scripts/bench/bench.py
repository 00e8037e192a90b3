#!/usr/bin/env python3
"""Helpers for scripts/bench-restore.sh (not a test; stdlib + boto3 from .tools/venv).

Subcommands:
  gen DB MB                 build a >= MB MiB SQLite database (mixed text/blobs, indexes), WAL mode
  write DB[,DB...] N SECS   N write transactions SECS apart, identical on every DB (seeded);
                            N = until:EPOCH writes until that time
  stat file DIR | stat s3 ENDPOINT BUCKET PREFIX
                            replica objects as JSON: count, bytes, per level, max L0 TXID
  s3-dump ENDPOINT BUCKET PREFIX DEST   copy a bucket prefix (bodies + user metadata) to DEST
  s3-load ENDPOINT BUCKET DEST          create BUCKET and upload a dump made by s3-dump
  mkbucket ENDPOINT BUCKET
  freeport                  print a free TCP port on 127.0.0.1
  wait-http URL SECS        wait until URL answers HTTP at all
  dbinfo DB                 JSON: size, page size/count, marker, row counts
  report RESULTS META       print the benchmark table
"""
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import sys
import time
import urllib.error
import urllib.request

LTX_RE = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{16})\.ltx$")

WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an "
    "they you were her she there been one all we their has would when if so no will more out up into do any "
    "your what about than them can only other time new some could these two may first then do any like "
    "workflow activity retry signal timer timeout worker queue task event history replay state snapshot "
    "checkpoint commit rollback transaction page index cursor schema table column value payload customer "
    "order invoice payment shipment account balance refund status pending running completed failed "
    "cancelled scheduled started heartbeat deadline region cluster shard tenant namespace version"
).split()
KINDS = ["started", "completed", "failed", "signal", "timer", "heartbeat", "retry", "cancelled"]


def corpus(seed, size=96 * 1024):
    rng = random.Random(seed)
    out, n = [], 0
    while n < size:
        w = rng.choice(WORDS)
        if rng.random() < 0.08:
            w = w.capitalize() + "."
        elif rng.random() < 0.04:
            w = str(rng.randrange(100000))
        out.append(w)
        n += len(w) + 1
    return " ".join(out)


SCHEMA = """
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
                   created INTEGER NOT NULL, bio TEXT);
CREATE TABLE events(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, ts INTEGER NOT NULL,
                    kind TEXT NOT NULL, payload TEXT NOT NULL, data BLOB);
CREATE TABLE documents(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title TEXT NOT NULL,
                       body TEXT NOT NULL, attachment BLOB, updated INTEGER NOT NULL);
CREATE TABLE bench_meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL);
CREATE INDEX events_user_ts ON events(user_id, ts);
CREATE INDEX events_kind_ts ON events(kind, ts);
CREATE INDEX documents_title ON documents(title);
CREATE INDEX documents_user ON documents(user_id, updated);
INSERT INTO bench_meta VALUES('seq', 0);
"""

# Events: compressible JSON-ish payload (100..700 B of pseudo-English), half of them with a random
# blob (64..1600 B), a few with a compressible binary blob. Documents: 2..12 KB text bodies
# (overflow pages), 40% with a random 4..32 KB attachment, 20% with a zero-heavy one.
EVENTS_SQL = """
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < :n)
INSERT INTO events(user_id, ts, kind, payload, data)
SELECT abs(random()) % :users + 1,
       1700000000000 + (:base + i) * 250,
       json_extract(:kinds, '$[' || (abs(random()) % 8) || ']'),
       printf('{"seq":%d,"attempt":%d,"msg":"%s"}', :base + i, abs(random()) % 5,
              substr(:corpus, abs(random()) % 90000 + 1, 100 + abs(random()) % 600)),
       CASE abs(random()) % 10
         WHEN 0 THEN randomblob(64 + abs(random()) % 1536)
         WHEN 1 THEN randomblob(64 + abs(random()) % 1536)
         WHEN 2 THEN randomblob(64 + abs(random()) % 1536)
         WHEN 3 THEN randomblob(64 + abs(random()) % 1536)
         WHEN 4 THEN randomblob(64 + abs(random()) % 1536)
         WHEN 5 THEN zeroblob(256 + abs(random()) % 1024)
         ELSE NULL END
FROM c
"""
DOCS_SQL = """
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < :n)
INSERT INTO documents(user_id, title, body, attachment, updated)
SELECT abs(random()) % :users + 1,
       printf('doc-%08d %s', :base + i, substr(:corpus, abs(random()) % 90000 + 1, 40)),
       substr(:corpus, abs(random()) % 80000 + 1, 2000 + abs(random()) % 10000),
       CASE abs(random()) % 10
         WHEN 0 THEN randomblob(4096 + abs(random()) % 28672)
         WHEN 1 THEN randomblob(4096 + abs(random()) % 28672)
         WHEN 2 THEN randomblob(4096 + abs(random()) % 28672)
         WHEN 3 THEN randomblob(4096 + abs(random()) % 28672)
         WHEN 4 THEN zeroblob(4096 + abs(random()) % 28672)
         WHEN 5 THEN zeroblob(4096 + abs(random()) % 28672)
         ELSE NULL END,
       1700000000000 + (:base + i) * 1000
FROM c
"""
USERS = 20000


def cmd_gen(db, mb):
    target = int(float(mb) * 1024 * 1024)
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(db + suffix)
        except FileNotFoundError:
            pass
    text = corpus(1)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA page_size=4096")
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    con.executescript(SCHEMA)
    rng = random.Random(2)
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO users(id, name, email, created, bio) VALUES(?,?,?,?,?)",
        (
            (i, f"user {i}", f"user{i}@example.{rng.choice(['com', 'org', 'net'])}", 1690000000 + i,
             text[(p := rng.randrange(90000)):p + rng.randrange(20, 300)])
            for i in range(1, USERS + 1)
        ),
    )
    con.execute("COMMIT")
    kinds = json.dumps(KINDS)
    ev_base = doc_base = 0
    t0 = time.time()
    while con.execute("PRAGMA page_count").fetchone()[0] * 4096 < target:
        con.execute("BEGIN")
        con.execute(EVENTS_SQL, dict(n=20000, users=USERS, base=ev_base, kinds=kinds, corpus=text))
        con.execute(DOCS_SQL, dict(n=250, users=USERS, base=doc_base, corpus=text))
        con.execute("COMMIT")
        ev_base += 20000
        doc_base += 250
        size = con.execute("PRAGMA page_count").fetchone()[0] * 4096
        print(f"gen: {size / 1048576:.0f} MiB ({time.time() - t0:.1f}s)", file=sys.stderr)
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


def cmd_write(dbs, n, secs, seed="bench"):
    """Apply the same N transactions (updates spread over the whole DB, inserts, deletes) to each DB."""
    dbs = dbs.split(",")
    text = corpus(1)
    cons = []
    for db in dbs:
        con = sqlite3.connect(db, isolation_level=None, timeout=30)
        con.execute("PRAGMA busy_timeout=30000")
        con.execute("PRAGMA synchronous=NORMAL")
        # Litestream's advice for write-heavy apps: let Litestream do the checkpoints. With SQLite's
        # autocheckpoint the WAL restarts under Litestream's feet and it re-uploads the whole DB.
        con.execute("PRAGMA wal_autocheckpoint=0")
        cons.append(con)
    c0 = cons[0]
    max_ev = c0.execute("SELECT max(id) FROM events").fetchone()[0]
    max_doc = c0.execute("SELECT max(id) FROM documents").fetchone()[0]
    seq = c0.execute("SELECT v FROM bench_meta WHERE k='seq'").fetchone()[0]
    # N is a count, or "until:EPOCH" = keep writing until that wall-clock time.
    until = float(n.split(":", 1)[1]) if str(n).startswith("until:") else None
    count = 10**9 if until else int(n)
    t = 0
    while t < count and (until is None or time.time() < until):
        t += 1
        rng = random.Random(f"{seed}-{seq}")
        ops = []
        for _ in range(300):  # payload/blob updates anywhere in the table
            i = rng.randrange(1, max_ev + 1)
            p = rng.randrange(90000)
            ops.append(("UPDATE events SET payload=?, data=? WHERE id=?",
                        (f'{{"seq":{i},"upd":{seq},"msg":"{text[p:p + rng.randrange(100, 700)]}"}}',
                         rng.randbytes(rng.randrange(64, 1600)) if rng.random() < 0.5 else None, i)))
        for _ in range(400):  # appends (new events)
            max_ev += 1
            p = rng.randrange(90000)
            ops.append(("INSERT INTO events(id, user_id, ts, kind, payload, data) VALUES(?,?,?,?,?,?)",
                        (max_ev, rng.randrange(1, USERS + 1), 1800000000000 + max_ev, rng.choice(KINDS),
                         f'{{"seq":{max_ev},"msg":"{text[p:p + rng.randrange(100, 700)]}"}}',
                         rng.randbytes(rng.randrange(64, 1600)) if rng.random() < 0.5 else None)))
        for _ in range(60):  # deletes
            ops.append(("DELETE FROM events WHERE id=?", (rng.randrange(1, max_ev + 1),)))
        for _ in range(8):  # document rewrites (overflow chains)
            d = rng.randrange(1, max_doc + 1)
            p = rng.randrange(80000)
            ops.append(("UPDATE documents SET body=?, attachment=?, updated=? WHERE id=?",
                        (text[p:p + rng.randrange(2000, 12000)],
                         rng.randbytes(rng.randrange(4096, 32768)) if rng.random() < 0.4 else None,
                         1800000000000 + seq, d)))
        for _ in range(50):
            u = rng.randrange(1, USERS + 1)
            p = rng.randrange(90000)
            ops.append(("UPDATE users SET bio=? WHERE id=?", (text[p:p + rng.randrange(20, 300)], u)))
        seq += 1
        ops.append(("UPDATE bench_meta SET v=? WHERE k='seq'", (seq,)))
        for con in cons:
            con.execute("BEGIN IMMEDIATE")
            for sql, args in ops:
                con.execute(sql, args)
            con.execute("COMMIT")
        if t < count:
            time.sleep(float(secs))
    for con in cons:
        con.close()
    print(seq)


def cmd_dbinfo(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    info = dict(
        file_bytes=os.path.getsize(db),
        page_size=con.execute("PRAGMA page_size").fetchone()[0],
        page_count=con.execute("PRAGMA page_count").fetchone()[0],
        seq=con.execute("SELECT v FROM bench_meta WHERE k='seq'").fetchone()[0],
        events=con.execute("SELECT count(*) FROM events").fetchone()[0],
        documents=con.execute("SELECT count(*) FROM documents").fetchone()[0],
    )
    con.close()
    print(json.dumps(info))


def s3_client(endpoint):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
                        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
                        config=Config(s3={"addressing_style": "path"}))


def s3_list(cli, bucket, prefix):
    out = []
    for page in cli.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/"):
        out.extend(page.get("Contents", []))
    return out


def summarize(entries):
    """entries: (level, name, size)."""
    levels, total, n, max0 = {}, 0, 0, 0
    for level, name, size in entries:
        m = LTX_RE.match(name)
        if not m:
            continue
        n += 1
        total += size
        levels[level] = levels.get(level, 0) + 1
        if level == 0:
            max0 = max(max0, int(m.group(2), 16))
    return dict(count=n, bytes=total, levels={str(k): v for k, v in sorted(levels.items())}, max_l0_txid=max0)


def cmd_stat(kind, *args):
    entries = []
    if kind == "file":
        root = os.path.join(args[0], "ltx")
        if os.path.isdir(root):
            for lvl in os.listdir(root):
                for name in os.listdir(os.path.join(root, lvl)):
                    entries.append((int(lvl), name, os.path.getsize(os.path.join(root, lvl, name))))
    else:
        endpoint, bucket, prefix = args
        cli = s3_client(endpoint)
        for o in s3_list(cli, bucket, prefix):
            rel = o["Key"][len(prefix.rstrip("/")) + 1:]
            parts = rel.split("/")
            if len(parts) == 2:
                entries.append((int(parts[0], 16), parts[1], o["Size"]))
    print(json.dumps(summarize(entries)))


def cmd_s3_dump(endpoint, bucket, prefix, dest):
    cli = s3_client(endpoint)
    index = []
    for i, o in enumerate(s3_list(cli, bucket, prefix)):
        r = cli.get_object(Bucket=bucket, Key=o["Key"])
        path = os.path.join(dest, f"{i:06d}.bin")
        with open(path, "wb") as f:
            f.write(r["Body"].read())
        index.append(dict(key=o["Key"], file=os.path.basename(path), size=o["Size"],
                          metadata=r.get("Metadata", {}), content_type=r.get("ContentType")))
    with open(os.path.join(dest, "objects.json"), "w") as f:
        json.dump(index, f, indent=1)
    print(len(index))


def cmd_mkbucket(endpoint, bucket):
    s3_client(endpoint).create_bucket(Bucket=bucket)


def cmd_s3_load(endpoint, bucket, dest):
    cli = s3_client(endpoint)
    cli.create_bucket(Bucket=bucket)
    with open(os.path.join(dest, "objects.json")) as f:
        index = json.load(f)
    for o in index:
        with open(os.path.join(dest, o["file"]), "rb") as body:
            kw = dict(Bucket=bucket, Key=o["key"], Body=body, Metadata=o["metadata"])
            if o.get("content_type"):
                kw["ContentType"] = o["content_type"]
            cli.put_object(**kw)
    print(len(index))


def cmd_freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_wait_http(url, secs):
    deadline = time.time() + float(secs)
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.2)
    sys.exit(f"no HTTP answer from {url} within {secs}s")


def cmd_report(results_path, meta_path):
    """RESULTS: TSV lines `replica tool variant run wall_s maxrss_kb user_s sys_s`."""
    with open(meta_path) as f:
        meta = json.load(f)
    res = {}
    with open(results_path) as f:
        for line in f:
            rep, tool, variant, _run, wall, rss, usr, syst = line.split()
            res.setdefault((rep, tool, variant), []).append((float(wall), int(rss) / 1024, float(usr), float(syst)))

    def med(key, i):
        v = res.get(key)
        return statistics.median(x[i] for x in v) if v else None

    def f(x, fmt):
        return "-" if x is None else format(x, fmt)

    # (label, litestream variant, chronoscope variant)
    rows = [
        ("default (LS: no check, CS: integrity_check)", "none", "full"),
        ("both PRAGMA integrity_check", "full", "full"),
        ("both PRAGMA quick_check", "quick", "quick"),
    ]
    print(f"Restore benchmark: litestream {meta['litestream_version']} vs chronoscope {meta['chronoscope_version']}")
    print(f"  host: {meta['host']}")
    print(f"  database: {meta['db_bytes'] / 1048576:.1f} MiB ({meta['db_pages']} pages of {meta['page_size']} B), "
          f"{meta['events']} events, {meta['documents']} documents, WAL mode")
    for rep in ("file", "s3"):
        r = meta["replicas"][rep]
        lv = " ".join(f"L{k}:{v}" for k, v in r["levels"].items())
        print(f"  {rep:<4} replica: {r['count']} objects, {r['bytes'] / 1048576:.1f} MiB ({lv}); "
              f"restore plan: {r['plan_files']} files, {r['plan_bytes'] / 1048576:.1f} MiB")
    print(f"  runs: {meta['runs']} per tool and variant, alternating; medians shown; outputs byte-identical (cmp): "
          f"{meta['identical']}")
    print()
    hdr = ("replica", "integrity check", "litestream s", "chronoscope s", "ratio", "floor s", "CS/floor",
           "LS RSS MB", "CS RSS MB", "LS cpu s", "CS cpu s")
    lines = []
    for rep in ("file", "s3"):
        for label, lsv, csv in rows:
            ls, cs = (rep, "litestream", lsv), (rep, "chronoscope", csv)
            lw, cw = med(ls, 0), med(cs, 0)
            lc = None if lw is None else med(ls, 2) + med(ls, 3)
            cc = None if cw is None else med(cs, 2) + med(cs, 3)
            fw = med((rep, "floor", "floor"), 0)
            lines.append((rep, label, f(lw, ".2f"), f(cw, ".2f"),
                          "-" if lw is None or cw is None else f"{cw / lw:.2f}",
                          f(fw, ".2f"), "-" if fw is None or cw is None or fw == 0 else f"{cw / fw:.1f}x",
                          f(med(ls, 1), ".0f"), f(med(cs, 1), ".0f"), f(lc, ".2f"), f(cc, ".2f")))
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *lines)]
    left = {0, 1}

    def fmt(row):
        return "  ".join(str(x).ljust(w) if i in left else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths)))

    print(fmt(hdr))
    print("  ".join("-" * w for w in widths))
    for row in lines:
        print(fmt(row))
    print()
    print("ratio = chronoscope / litestream wall time (below 1.0 = chronoscope faster); RSS = peak resident set;")
    print("cpu = user + sys. Litestream checks nothing by default (-integrity-check none); chronoscope runs")
    print("PRAGMA integrity_check by default (--quick-check: quick_check). S3 = moto server on 127.0.0.1.")
    print("floor: folder = read the planned LTX files and write the database once (cat + cp + sync); S3 = GET the")
    print("planned objects with chronoscope's S3 client and concurrency and discard them (restore --fetch-only).")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {
        "gen": cmd_gen, "write": cmd_write, "stat": cmd_stat, "s3-dump": cmd_s3_dump, "s3-load": cmd_s3_load, "mkbucket": cmd_mkbucket,
        "freeport": cmd_freeport, "wait-http": cmd_wait_http, "dbinfo": cmd_dbinfo, "report": cmd_report,
    }[cmd]
    fn(*args)


if __name__ == "__main__":
    main()
