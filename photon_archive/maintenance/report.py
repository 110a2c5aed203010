"""What a maintenance run deleted, or would have in a dry run; ``defs/maintenance/config.py`` makes it
the run's output metadata."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MAX_LISTED = 200


@dataclass
class Deletions:
    """Counts by kind (objects, rows, items, runs ...) and one line per thing removed."""

    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    entries: list[str] = field(default_factory=list)

    def add(self, entry: str, **counts: int) -> None:
        self.entries.append(entry)
        self.counts.update(counts)

    def markdown(self) -> str:
        verb = "Would delete (dry run)" if self.dry_run else "Deleted"
        if not self.entries:
            return f"{verb}: nothing."
        lines = [f"{verb}:", ""] + [f"- {entry}" for entry in self.entries[:MAX_LISTED]]
        if len(self.entries) > MAX_LISTED:
            lines.append(f"- … and {len(self.entries) - MAX_LISTED} more")
        return "\n".join(lines)
