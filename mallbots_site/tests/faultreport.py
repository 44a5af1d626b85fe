"""The table ``make faults`` prints at the end of the session (quality.md §2): one row per fault test (fault,
load held, messages lost, effects duplicated, time to recover, audit result) and one per fuzzed operation
group (cases, 5xx, schema violations). Tests add rows through the ``fault_report`` fixture
(``mallbots_site/tests/conftest.py``); the same figures go to ``VAR_DIR/fault-report.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class FaultRow:
    fault: str
    load: str
    lost: int | str
    duplicated: int | str
    recovery: str
    audit: str
    outcome: str = "passed"


@dataclass
class FuzzRow:
    group: str
    operations: int
    cases: int
    stateful_steps: int
    server_errors: int
    violations: int
    statuses: dict[str, int]


@dataclass
class FaultReport:
    faults: list[FaultRow] = field(default_factory=list)
    fuzz: list[FuzzRow] = field(default_factory=list)

    def fault(self, fault: str, *, load: str, lost: int | str, duplicated: int | str, recovery: str,
              audit: str) -> FaultRow:
        row = FaultRow(fault, load, lost, duplicated, recovery, audit)
        self.faults.append(row)
        return row

    def fuzzing(self, figures) -> None:
        self.fuzz.append(FuzzRow(figures.group, figures.operations, figures.cases, figures.stateful_steps,
                                 figures.server_errors, figures.violations,
                                 {str(k): v for k, v in sorted(figures.statuses.items())}))

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.faults:
            out.append(_table(["fault", "load held", "lost", "duplicated", "time to recover", "audit"],
                              [[r.fault, r.load, r.lost, r.duplicated, r.recovery, r.audit] for r in self.faults]))
        if self.fuzz:
            rows = [[r.group, r.operations, r.cases, r.stateful_steps, r.server_errors, r.violations,
                     " ".join(f"{k}:{v}" for k, v in r.statuses.items())] for r in self.fuzz]
            rows.append(["total", sum(r.operations for r in self.fuzz), sum(r.cases for r in self.fuzz),
                         sum(r.stateful_steps for r in self.fuzz), sum(r.server_errors for r in self.fuzz),
                         sum(r.violations for r in self.fuzz), ""])
            out.append(_table(["group", "operations", "cases", "stateful steps", "5xx", "violations", "statuses"],
                              rows))
        return out

    def save(self) -> Path | None:
        if not (self.faults or self.fuzz):
            return None
        path = Path(os.environ.get("VAR_DIR") or ".") / "fault-report.json"
        path.write_text(json.dumps({"faults": [asdict(r) for r in self.faults],
                                    "fuzz": [asdict(r) for r in self.fuzz]}, indent=2))
        return path


def _table(header: list[str], rows: list[list]) -> str:
    """A Markdown table (it pastes into docs/operations.md as it is)."""
    cells = [header] + [[str(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(value.ljust(width) for value, width in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
