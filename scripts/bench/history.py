# SPDX-License-Identifier: GPL-2.0-or-later
"""Grows a hotfolder state database fast, for the scale benchmarks (scripts/bench/bench.py): clones one finished
job (with its input, task, events and spend) with plain SQL inserts, instead of running a million jobs.

`grow(db, n)` adds n finished jobs spread over the past (one every `step` seconds, the newest `step` seconds before
the template); `grow(db, n, files=[(relpath, dev, ino, size, mtime_ns), ...])` adds one finished job per file
whose input is that file (its identity as `lstat` gives it), so those files count as already made into jobs.
The service must be stopped. Standard library only."""
import sqlite3, time

TABLES = ["job", "inputFile", "task", "event", "spend"]
TIMES = {"createdAt", "updatedAt", "submittedAt", "expiresAt", "nextPollAt", "at", "reservedAt", "settledAt"}
NEW_ID = "printf('00000000-0000-4000-8000-%012x', s.n)"


def _select(db, table, files):
    cols, exprs = [], []
    for _, name, ctype, _, _, pk in db.execute("PRAGMA table_info(%s)" % table):
        if pk and ctype.upper() == "INTEGER":
            continue  # rowid: a new one
        cols.append(name)
        if (table == "job" and name == "id") or name == "jobId":
            e = NEW_ID
        elif table == "job" and name in ("name", "outputPath"):
            e = "t.%s || '-h' || s.n" % name
        elif table == "task" and name == "taskId":
            e = "t.taskId || '-h' || s.n"
        elif name in TIMES:
            e = "t.%s - s.n * :step" % name
        elif table == "spend" and name in ("day", "month"):
            e = "strftime('%s', t.reservedAt - s.n * :step, 'unixepoch')" % ("%Y-%m-%d" if name == "day" else "%Y-%m")
        elif table == "inputFile" and name == "sha256":
            e = "substr(t.sha256, 1, 52) || printf('%012x', s.n)"
        elif table == "inputFile" and files and name in ("path", "device", "inode", "size", "mtimeNs"):
            e = "s." + {"path": "path", "device": "dev", "inode": "ino", "size": "size", "mtimeNs": "mtime"}[name]
        else:
            e = "t." + name
        exprs.append(e)
    key = "id" if table == "job" else "jobId"
    return ("INSERT INTO %s (%s) SELECT %s FROM %s t, seq s WHERE t.%s = :template"
            % (table, ", ".join(cols), ", ".join(exprs), table, key))


def grow(path, n, files=None, step=15.0):
    """Adds n finished jobs (or one per file); returns the seconds it took."""
    t0 = time.time()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=OFF")
    template = db.execute("SELECT id FROM job WHERE state = 'done' ORDER BY createdAt LIMIT 1").fetchone()[0]
    start = db.execute("SELECT COUNT(*) FROM job").fetchone()[0] + 1
    db.execute("BEGIN")
    db.execute("CREATE TEMP TABLE seq (n INTEGER PRIMARY KEY, path TEXT, dev INTEGER, ino INTEGER, size INTEGER, mtime INTEGER)")
    if files:
        db.executemany("INSERT INTO seq VALUES (?, ?, ?, ?, ?, ?)",
                       ((start + i,) + tuple(f) for i, f in enumerate(files)))
    else:
        db.execute("WITH RECURSIVE c(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
                   "INSERT INTO seq (n) SELECT x FROM c", (start, start + n - 1))
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (%s)"
                         % ", ".join("'%s'" % t for t in TABLES)).fetchall()
    for name, _ in indexes:
        db.execute("DROP INDEX %s" % name)
    for table in TABLES:
        db.execute(_select(db, table, files), {"template": template, "step": step})
    for _, sql in indexes:
        db.execute(sql)
    db.execute("DROP TABLE seq")
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return time.time() - t0
