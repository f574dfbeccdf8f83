"""Adds up the JUnit XML reports in a folder and prints 'N passed, N failed'.

Exit status 1 when any test failed or errored, or when no test ran at all.
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def count(report: Path) -> tuple[int, int, int, list[str]]:
    passed = failed = skipped = 0
    failures = []
    root = ET.parse(report).getroot()
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped, failures


def main() -> int:
    folder = Path(sys.argv[1])
    total_passed = total_failed = total_skipped = 0
    for report in sorted(folder.glob("*.xml")):
        try:
            passed, failed, skipped, failures = count(report)
        except ET.ParseError as err:
            print(f"{report.name}: unreadable report ({err})")
            total_failed += 1
            continue
        print(f"{report.name}: {passed} passed, {failed} failed, {skipped} skipped")
        for name in failures:
            print(f"  FAILED {name}")
        total_passed += passed
        total_failed += failed
        total_skipped += skipped
    if total_passed + total_failed == 0:
        total_failed = 1
        print("no test reports found")
    line = f"{total_passed} passed, {total_failed} failed"
    if total_skipped:
        line += f", {total_skipped} skipped"
    print(line)
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
