#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check.py — JSON assertions for the cairn CLI tests.

    check.py FILE EXPR...

Parses FILE as JSON (strictly: one document, nothing after it) into `d`,
then evaluates each EXPR (a Python expression over `d`, with `math` and
`close(a, b, rel=1e-9)` available) and prints "ok   EXPR" or "FAIL EXPR".
Exits 1 if the JSON does not parse or any assertion fails.
"""
import json
import math
import sys


def close(a, b, rel=1e-9):
    return a is not None and math.isclose(a, b, rel_tol=rel)


def main():
    if len(sys.argv) < 2:
        print("usage: check.py FILE EXPR...", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        print(f"FAIL json does not parse: {e}")
        return 1
    print("ok   json parses")
    rc = 0
    for expr in sys.argv[2:]:
        try:
            good = eval(expr, {"math": math, "close": close}, {"d": d})
        except Exception as e:  # an assertion that cannot run is a failure
            good = False
            expr += f"  ({type(e).__name__}: {e})"
        print(("ok   " if good else "FAIL ") + expr)
        rc |= 0 if good else 1
    return rc


sys.exit(main())
