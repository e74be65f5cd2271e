#!/usr/bin/env python3
"""trino-sqlite.py - run the `cost --athena` query (lib/cost/athena-sql.ts) for real, on SQLite.

No Athena or Trino engine is available to the tests, so the query runs in SQLite (Python's sqlite3
module) with the Trino functions it uses registered below, each written to the behaviour the
Trino documentation gives (https://trino.io/docs/current/functions/regexp.html, json.html,
string.html; Athena engine v3 is Trino):
  regexp_like(s, p)          true when p matches anywhere in s (Java-style, ASCII \\d and \\s)
  regexp_extract(s, p[, g])  group g (default 0) of the first match, NULL when p does not match
  regexp_replace(s, p, r)    every match of p replaced by r ($g in r is group g)
  strpos(s, t)               1-based position of t in s, 0 when absent
  reverse(s)                 s backwards
  json_parse(s)              the JSON value, NULL for invalid text (in Trino it raises and the
                             query's try() turns that into NULL; here try() is the identity)
  json_extract(j, '$.k')     the JSON value at k, NULL when j is not an object or has no k
  json_format(j)             the JSON text of j
  json_extract_scalar(j, '$.k')  k's string (unescaped), number or boolean as text; NULL for
                             null, objects and arrays
Everything else in the query (CTEs, CASE, CAST, integer division, %, window functions, ||) is
standard SQL that SQLite runs as Trino does for the integer and text values used.

Usage: trino-sqlite.py < request.json
  request: {"sql": "...", "database": "...", "table": "...",
            "rows": [{"deployment": "...", "day": "YYYY-MM-DD", "path": "s3://...", "line": "..."}]}
Prints {"columns": [...], "rows": [[text or null, ...], ...]} on stdout.
"""
import json
import re
import sqlite3
import sys

_cache = {}


def _re(p):
    r = _cache.get(p)
    if r is None:
        r = _cache[p] = re.compile(p, re.ASCII)
    return r


def regexp_like(s, p):
    if s is None or p is None:
        return None
    return 1 if _re(p).search(s) else 0


def regexp_extract(s, p, g=0):
    if s is None or p is None:
        return None
    m = _re(p).search(s)
    return None if m is None else m.group(g)


def regexp_replace(s, p, r):
    if s is None or p is None or r is None:
        return None
    return _re(p).sub(re.sub(r'\$(\d+)', r'\\g<\1>', r.replace('\\', '\\\\')), s)


def strpos(s, t):
    if s is None or t is None:
        return None
    return s.find(t) + 1


def reverse(s):
    return None if s is None else s[::-1]


def _no_constants(name):
    raise ValueError(name)


def json_parse(s):
    if s is None:
        return None
    try:
        return json.dumps(json.loads(s, parse_constant=_no_constants))
    except ValueError:
        return None


def _key(j, path):
    if j is None or path is None or not path.startswith('$.'):
        return False, None
    v = json.loads(j)
    if not isinstance(v, dict) or path[2:] not in v:
        return False, None
    return True, v[path[2:]]


def json_extract(j, path):
    found, v = _key(j, path)
    return json.dumps(v) if found else None


def json_format(j):
    return j


def json_extract_scalar(j, path):
    found, v = _key(j, path)
    if not found or v is None or isinstance(v, (dict, list)):
        return None
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, str):
        return v
    return json.dumps(v)


def main():
    req = json.load(sys.stdin)
    db = sqlite3.connect(':memory:')
    for name, n, fn in [
        ('regexp_like', 2, regexp_like),
        ('regexp_extract', 2, regexp_extract),
        ('regexp_extract', 3, regexp_extract),
        ('regexp_replace', 3, regexp_replace),
        ('strpos', 2, strpos),
        ('reverse', 1, reverse),
        ('json_parse', 1, json_parse),
        ('json_extract', 2, json_extract),
        ('json_format', 1, json_format),
        ('json_extract_scalar', 2, json_extract_scalar),
        ('try', 1, lambda v: v),
    ]:
        db.create_function(name, n, fn, deterministic=True)
    schema = req['database'].replace('"', '""')
    table = req['table'].replace('"', '""')
    db.execute(f'ATTACH DATABASE \':memory:\' AS "{schema}"')
    db.execute(f'CREATE TABLE "{schema}"."{table}" (deployment TEXT, day TEXT, "$path" TEXT, line TEXT)')
    db.executemany(
        f'INSERT INTO "{schema}"."{table}" VALUES (?, ?, ?, ?)',
        [(r['deployment'], r['day'], r['path'], r['line']) for r in req['rows']],
    )
    cur = db.execute(req['sql'])
    columns = [c[0] for c in cur.description]
    rows = [[None if v is None else str(v) for v in row] for row in cur.fetchall()]
    json.dump({'columns': columns, 'rows': rows}, sys.stdout)


if __name__ == '__main__':
    main()
