#!/usr/bin/env python3
"""Summarise the OCI conformance suite's junit.xml.

Prints pass/fail/skip/disabled counts over the leaf test cases, lists every failure
and every skip that was not asked for by the configuration, and exits 1 when there
is any such failure or skip (a skip not caused by configuration means the registry
declared a feature unsupported)."""
import sys
import xml.etree.ElementTree as ET


def main(path):
    root = ET.parse(path).getroot()
    counts = {"passed": 0, "failure": 0, "skipped": 0, "disabled": 0}
    failures, skips = [], []
    for case in root.iter("testcase"):
        status = case.get("status", "")
        name = case.get("name", "?")
        err = case.findtext("system-err") or ""
        if status == "skipped" and "disabled in the configuration" in err:
            status = "disabled"
        counts[status] = counts.get(status, 0) + 1
        if status == "failure":
            msg = case.findtext("system-out") or ""
            fail = case.find("failure")
            if not msg and fail is not None:
                msg = fail.get("message") or fail.text or ""
            failures.append((name, msg.strip().splitlines()[:3]))
        elif status == "skipped":
            skips.append((name, err.strip().splitlines()[-1:] if err else []))
    for name, msg in failures:
        print(f"FAIL  {name}")
        for line in msg:
            print(f"        {line[:300]}")
    for name, msg in skips:
        print(f"SKIP  {name} {' '.join(msg)[:300]}")
    print(f"{counts['disabled']} test cases disabled by configuration (features berth is not asked to have)")
    print(f"conformance: {counts['passed']} passed, {counts['failure']} failed, {counts['skipped']} skipped")
    return 1 if failures or skips else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
