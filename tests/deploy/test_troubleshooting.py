"""docs/troubleshooting.md covers what the issue asked for: each OKX code, each SPX family, more."""

from __future__ import annotations

import re

from tests.support.paths import DOCS

PAGE = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
HEADINGS = [line.lstrip("#").strip() for line in PAGE.splitlines() if line.startswith("###")]


def test_each_okx_code_has_its_section() -> None:
    """50113, 50102, 50101, 50119, 50110 and 50011/50061 each head a section with a fix."""
    for code in ("50113", "50102", "50101", "50119", "50110", "50011 and 50061"):
        assert any(heading.startswith(code) for heading in HEADINGS), code
    assert PAGE.count("Fix:") >= 6


def test_each_spx_family_of_the_error_table_has_its_section() -> None:
    """Every SPXn.. family in docs/requests-and-errors.md's table heads a section here."""
    table = (DOCS / "requests-and-errors.md").read_text(encoding="utf-8")
    families = {code[:4] for code in re.findall(r"^\| `(SPX\d{3})`", table, re.MULTILINE)}
    assert families
    for family in sorted(families):
        assert any(heading.startswith(f"{family}xx") for heading in HEADINGS), family


def test_the_other_first_hour_problems_are_there() -> None:
    """Port in use, demo vs live, the prehash at debug level, and the doctor command."""
    for heading in ("Port in use", "Demo or live?", "Seeing the prehash at debug level"):
        assert f"## {heading}" in PAGE or f"### {heading}" in PAGE, heading
    assert "signproxy check" in PAGE
    assert "SIGNPROXY_LOG_LEVEL=debug" in PAGE
