"""The docs agree with the code: the SPX table, the README's client example, every local link."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import signproxy
from signproxy.errors import ConfigError, SignproxyError
from tests.support.paths import DOCS, ROOT

ERRORS_DOC = DOCS / "requests-and-errors.md"
_ROW = re.compile(r"^\| `(SPX\d{3})` \| ([^|]+) \|", re.MULTILINE)
_CODE = re.compile(r"SPX\d{3}")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```$", re.MULTILINE | re.DOTALL)


def _modules() -> list[object]:
    """Every module of the package, imported (``__main__`` runs the CLI, so it is left out)."""
    names = [
        info.name
        for info in pkgutil.walk_packages(signproxy.__path__, "signproxy.")
        if not info.name.endswith("__main__")
    ]
    return [signproxy, *(importlib.import_module(name) for name in names)]


def _error_classes() -> list[type[SignproxyError]]:
    """The error classes a client can get: the leaves of the tree, without startup errors.

    Inner classes (``RequestRejected``, ``UpstreamError``...) are never raised themselves, and a
    ``ConfigError`` stops the proxy before it serves anyone, so no client sees its code. Classes
    that tests define (a test stage's own refusal) are not the package's and do not count.
    """
    _modules()
    found: list[type[SignproxyError]] = []
    pending = [SignproxyError]
    while pending:
        cls = pending.pop()
        children = [child for child in cls.__subclasses__() if _ours(child)]
        pending.extend(children)
        if not children and not issubclass(cls, ConfigError):
            found.append(cls)
    return found


def _ours(cls: type) -> bool:
    return cls.__module__.split(".", 1)[0] == "signproxy"


def _event_codes() -> set[str]:
    """The codes the WebSocket relay writes into error events (module constants ``SPXnnn``)."""
    return {
        value
        for module in _modules()
        for value in vars(module).values()
        if isinstance(value, str) and re.fullmatch(r"SPX\d{3}", value)
    }


def _documented() -> dict[str, str]:
    """``code -> HTTP status column`` of the table of errors made by the proxy."""
    section = ERRORS_DOC.read_text(encoding="utf-8").split("\n## Errors made by the proxy\n", 1)[1]
    rows = _ROW.findall(section.split("\n## ", 1)[0])
    assert len(rows) == len({code for code, _ in rows}), "a code has two rows"
    return {code: status.strip() for code, status in rows}


def test_every_error_code_in_the_code_is_in_the_table() -> None:
    """Each error class a client can get has a row with its code and status; each event code a row."""
    documented = _documented()
    classes = _error_classes()
    assert len(classes) > 20
    for cls in classes:
        assert documented.get(cls.code) == str(cls.status), cls.__name__
    for code in _event_codes():
        assert code in documented, code


def test_every_code_in_the_table_is_made_by_the_code() -> None:
    """Each row of the table belongs to an error class or an event code: no stale row."""
    made = {cls.code for cls in _error_classes()} | _event_codes()
    assert sorted(set(_documented()) - made) == []


def test_every_code_the_docs_mention_is_in_the_table() -> None:
    """An SPXnnn named anywhere in the README or docs/ is one of the table's codes."""
    documented = set(_documented())
    for page in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        mentioned = set(_CODE.findall(page.read_text(encoding="utf-8")))
        assert sorted(mentioned - documented) == [], page.name


def test_readme_client_example_is_a_tested_recipe() -> None:
    """The README's client example is, byte for byte, a recipe of docs/clients.md (which are run)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(
        r"```python\n(.*?)```", readme.split("\n## A client\n", 1)[1], re.DOTALL
    )
    recipes = re.findall(r"```python\n(.*?)```", (DOCS / "clients.md").read_text(), re.DOTALL)
    assert example in recipes


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_local_links_resolve(page: Path) -> None:
    """Every link to a file of the repository points at one that exists, and at a heading in it."""
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    for link in _LINK.findall(text):
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), link
        assert ROOT in target.parents or target == ROOT, link
        if anchor:
            assert anchor in _anchors(target), link
