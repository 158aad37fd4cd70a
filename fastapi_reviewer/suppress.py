"""Dropping findings the user silenced: `# noqa` comments and per-file-ignores."""

from __future__ import annotations

import fnmatch

from fastapi_reviewer.catalog import Catalog
from fastapi_reviewer.facts.model import ModuleFacts
from fastapi_reviewer.findings import Finding


def noqa_silences(module: ModuleFacts, finding: Finding) -> bool:
    if finding.line not in module.noqa:
        return False
    codes = module.noqa[finding.line]
    return codes is None or finding.code in codes


class PerFileIgnores:
    def __init__(self, table: dict[str, list[str]], catalog: Catalog) -> None:
        self.entries: list[tuple[str, set[str]]] = []
        for pattern, selectors in table.items():
            codes = {rule.code for sel in selectors for rule in catalog.select(sel)}
            self.entries.append((pattern, codes))

    def silences(self, rel_path: str, code: str) -> bool:
        name = rel_path.rsplit("/", 1)[-1]
        for pattern, codes in self.entries:
            if code in codes and (fnmatch.fnmatchcase(rel_path, pattern) or fnmatch.fnmatchcase(name, pattern)):
                return True
        return False
