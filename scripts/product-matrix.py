#!/usr/bin/env python3
"""product-matrix.py — the table of products × client library × directory ×
case that the product tests recorded (docs/profiles.md, "Product matrix").

Each product test (tests/integration/test_product_*.sh, test_sssd.sh) writes
one file per directory, DIR/TEST.DIRECTORY.tsv, through prod_case
(tests/integration/lib/product.sh), product_common.case() (Python replays)
or prod_case() (lib/product_common.pl, Perl replays):

    begin TEST PRODUCT DIRECTORY DATE COMMIT
    case  PRODUCT LIBRARY DIRECTORY CASE ok|fail|na DETAIL
    end   TEST PRODUCT DIRECTORY pass

Usage: product-matrix.py [--dir DIR] [--out FILE] [--docs DOCS_MD] [--check]
  --dir DIR     the records (default build/product-matrix)
  --out FILE    write the markdown table there (default: stdout)
  --docs FILE   also replace what is between <!-- product-matrix:begin -->
                and <!-- product-matrix:end --> in FILE with the table
  --check       exit 1 when the records are a complete set (every product
                test, on each directory its "# directories:" line names, has
                a file) and a finished test lacks one of the five cases on a
                directory, or a test did not finish; an incomplete set (a
                TEST_FILTER run, a test not run) only prints what is missing.

A cell: ✓ checked and passed; ✗ recorded as failed, or the test did not
finish (failed before it got there); — the test finished without checking
it; n/a the case does not apply (the profile has no group rule); · not run
on that directory.
"""
import argparse
import datetime
import glob
import os
import re
import subprocess
import sys

CASES = ["member_login_groups", "wrong_password", "locked_account", "unknown_user", "outside_groups"]
HEAD = {"member_login_groups": "member logs in, groups (nested)", "wrong_password": "wrong password",
        "locked_account": "locked account", "unknown_user": "unknown user",
        "outside_groups": "user outside the groups"}
DIRS = [("slapd", "slapd"), ("389ds", "389-ds")]
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- product-matrix:begin -->", "<!-- product-matrix:end -->"


def expected_tests():
    """{test: [directories]} of the product tests in the tree (# directories: line)."""
    out = {}
    paths = glob.glob(os.path.join(TOP, "tests/integration/test_product_*.sh"))
    paths.append(os.path.join(TOP, "tests/integration/test_sssd.sh"))
    for p in sorted(paths):
        if not os.path.exists(p):
            continue
        dirs = ["slapd"]
        with open(p, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^# directories:\s*(.*)", line)
                if m:
                    dirs = m.group(1).split()
                    break
        out[os.path.basename(p)[:-3]] = dirs
    return out


def read(d):
    runs = {}     # (test, dir) -> {product, date, commit, done, rows: {(product, lib): {case: (res, detail)}}}
    for p in sorted(glob.glob(os.path.join(d, "*.tsv"))):
        run = None
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                x = line.rstrip("\n").split("\t")
                if x[0] == "begin" and len(x) >= 6:
                    run = {"test": x[1], "product": x[2], "dir": x[3], "date": x[4], "commit": x[5],
                           "done": False, "rows": {}}
                    runs[(x[1], x[3])] = run
                elif run is None:
                    continue
                elif x[0] == "case" and len(x) >= 6:
                    row = run["rows"].setdefault((x[1], x[2]), {})
                    res = x[5]
                    if row.get(x[4], ("", ""))[0] == "fail":
                        res = "fail"           # a failure is not undone by a later pass
                    row[x[4]] = (res, x[6] if len(x) > 6 else "")
                elif x[0] == "end":
                    run["done"] = True
    return runs


def cell(run, row_key):
    if run is None:
        return ["·"] * len(CASES)
    row = run["rows"].get(row_key, {})
    out = []
    for c in CASES:
        res = row.get(c, ("", ""))[0]
        if res == "ok":
            out.append("✓")
        elif res == "na":
            out.append("n/a")
        elif res == "fail" or not run["done"]:
            out.append("✗")
        else:
            out.append("—")
    return out


def git(*args):
    try:
        return subprocess.run(["git", "-C", TOP] + list(args), capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def table(runs, src):
    # rows: (product, library) from every run; the tests that gave them
    rows = {}
    for (test, _), run in runs.items():
        keys = list(run["rows"]) or [(run["product"], "(no case recorded)")]
        for k in keys:
            rows.setdefault(k, set()).add(test)
    lines = []
    hdr = ["Product (profile)", "Client library", "Test"]
    for _, dname in DIRS:
        hdr += ["%s: %s" % (dname, HEAD[c]) for c in CASES]
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + "---|" * len(hdr))
    for (product, lib) in sorted(rows, key=lambda k: (k[0], k[1])):
        for test in sorted(rows[(product, lib)]):
            cells = [product, lib, "`%s`" % test]
            for dk, _ in DIRS:
                cells += cell(runs.get((test, dk)), (product, lib))
            lines.append("| " + " | ".join(cells) + " |")
    commits = sorted({r["commit"] for r in runs.values()})
    dates = sorted(r["date"] for r in runs.values())
    lines.append("")
    lines.append("✓ checked and passed · ✗ failed, or the test failed before it got there · — not checked "
                 "by that test · n/a does not apply (no group rule in the profile) · `·` not run on that "
                 "directory.  Recorded %s … %s on commit %s (%d test runs, `%s`); table written %s."
                 % (dates[0] if dates else "-", dates[-1] if dates else "-", ", ".join(commits) or "-",
                    len(runs), src, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))
    return "\n".join(lines) + "\n"


def check(runs):
    """(complete, problems)."""
    exp = expected_tests()
    missing = ["%s on %s" % (t, d) for t, ds in sorted(exp.items()) for d in ds if (t, d) not in runs]
    problems = []
    for (test, d), run in sorted(runs.items()):
        if not run["done"]:
            problems.append("%s on %s did not finish" % (test, d))
            continue
        if not run["rows"]:
            problems.append("%s on %s recorded no case" % (test, d))
        for (product, lib), row in sorted(run["rows"].items()):
            for c in CASES:
                res = row.get(c, ("", ""))[0]
                if res not in ("ok", "na"):
                    problems.append("%s on %s: %s with %s: %s %s"
                                    % (test, d, product, lib, c, "failed" if res == "fail" else "not checked"))
    return missing, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=os.path.join(TOP, "build", "product-matrix"))
    ap.add_argument("--out")
    ap.add_argument("--docs")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    runs = read(a.dir)
    if not runs:
        print("product-matrix: no records in %s (run the product tests first)" % a.dir, file=sys.stderr)
        return 2
    src = os.path.relpath(a.dir, TOP) if os.path.abspath(a.dir).startswith(TOP + os.sep) else a.dir
    text = table(runs, src)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    elif not a.docs:
        sys.stdout.write(text)
    if a.docs:
        with open(a.docs, encoding="utf-8") as f:
            doc = f.read()
        i, j = doc.find(BEGIN), doc.find(END)
        if i < 0 or j < i:
            print("product-matrix: %s has no %s ... %s" % (a.docs, BEGIN, END), file=sys.stderr)
            return 2
        head = doc[:i + len(BEGIN)]
        cmd = "scripts/product-matrix.py --dir %s --docs %s" % (src, os.path.relpath(a.docs, TOP))
        commits = ", ".join(sorted({r["commit"] for r in runs.values()}))
        intro = ("\n<!-- generated by %s; do not edit by hand -->\n"
                 "## Product matrix\n\n"
                 "Which of the five standard cases each product test checks, with the Debian-packaged client library "
                 "that replays the product's connector, on each directory: a member logs in with the right "
                 "groups (nested ones included), a wrong password, a locked account (eve, "
                 "nsAccountLock, a member of the login group so that her lock refuses her), an unknown "
                 "user, a user outside the profile's groups (user0015).  The tests record a case where "
                 "its check has passed (`prod_case` in tests/integration/lib/product.sh, `case()` in "
                 "lib/product_common.py, `prod_case()` in lib/product_common.pl).  This table was "
                 "generated by `%s` from a run of every `tests/integration/test_product_*.sh` and "
                 "`test_sssd.sh` on slapd and on 389-ds (`RIG_BACKEND=slapd|389ds "
                 "PRODUCT_MATRIX_DIR=%s`) on commit %s; `scripts/test.sh` regenerates it into "
                 "`build/product-matrix.md` (from `build/product-matrix/`) on every run.\n\n"
                 % (cmd, cmd, src, commits))
        with open(a.docs, "w", encoding="utf-8") as f:
            f.write(head + intro + text + doc[j:])
    if a.check:
        missing, problems = check(runs)
        if missing:
            print("product-matrix: incomplete set, not checked (%d test runs missing: %s)"
                  % (len(missing), ", ".join(missing[:6]) + (" …" if len(missing) > 6 else "")), file=sys.stderr)
            return 0
        if problems:
            print("product-matrix: %d gaps:\n  %s" % (len(problems), "\n  ".join(problems)), file=sys.stderr)
            return 1
        print("product-matrix: complete; every product test checks the five cases on every directory",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
