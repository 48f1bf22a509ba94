"""Citations of the project's own docs resolve, and none points outside.

A citation is a repository path under ``docs/`` ending in ``.md``, optionally
in reST double backticks, followed by the sections it cites, each ``§`` and
a section name, separated by commas (line breaks and ``#`` comment markers
in between are allowed)::

    docs/api/ipsec-site-connections.md §create
    ``docs/api/subnets.md`` §create, §delete

A section exists when the cited file has a Markdown heading starting with
``§<name>`` (``## §create: Create``). The documents the comments used to cite
(the reference's behaviour notes, kept outside the repository) may not be
cited at all: everything a comment needs is written in docs/.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SCANNED = ("src", "tests", "bench")

#: ``docs/<path>.md`` then its sections
CITATION = re.compile(
    r"docs/(?P<path>[A-Za-z0-9_./-]+\.md)`*"
    r"(?P<sections>(?:[\s#]*§[a-z0-9][a-z0-9-]*(?:,[\s#]*§[a-z0-9][a-z0-9-]*)*)?)"
)
SECTION = re.compile(r"§([a-z0-9][a-z0-9-]*)")
HEADING = re.compile(r"^#{1,6} §([a-z0-9][a-z0-9-]*)\b", re.MULTILINE)
#: the outside documents: a bare file name, not a path below docs/
_OUTSIDE = ("validation", "behaviour", "topology", "policy", "resources", "examples")
OUTSIDE = re.compile(
    r"(?<![\w/.-])(?:" + "|".join((*_OUTSIDE, "clients", "DESIGN", "STYLE")) + r")\.md\b"
)
#: a link between the reference's own files: ``[routers.md §gateway](routers.md)``
DOC_LINK = re.compile(r"\[(?P<file>[\w-]+\.md) (?P<sections>§[^\]]+)\]\((?P<target>[\w-]+\.md)\)")


def _texts() -> list[tuple[str, str]]:
    found = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            found.append((str(path.relative_to(ROOT)), text))
    return found


@cache
def _citations() -> list[tuple[str, str, tuple[str, ...]]]:
    """(citing file, cited docs path, cited sections) for every citation."""
    return [
        (where, m.group("path"), tuple(SECTION.findall(m.group("sections"))))
        for where, text in _texts()
        for m in CITATION.finditer(text)
    ]


@cache
def _sections(doc: str) -> frozenset[str]:
    return frozenset(HEADING.findall((DOCS / doc).read_text(encoding="utf-8")))


def test_docs_citations_are_found() -> None:
    # the pattern itself must keep matching what the code writes
    assert len(_citations()) > 50
    assert any(sections for _, _, sections in _citations())


def test_docs_every_cited_file_and_section_exists() -> None:
    missing = []
    for where, doc, sections in _citations():
        if not (DOCS / doc).is_file():
            missing.append(f"{where}: docs/{doc} does not exist")
            continue
        missing.extend(
            f"{where}: docs/{doc} has no section §{name}"
            for name in sections
            if name not in _sections(doc)
        )
    assert not missing, "\n".join(missing)


def test_docs_no_citation_of_documents_outside_the_repository() -> None:
    found = [
        f"{where}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for where, text in _texts()
        for m in OUTSIDE.finditer(text)
        if where != "tests/unit/test_docs.py"
    ]
    assert not found, "cite docs/ instead:\n" + "\n".join(found)


def test_docs_reference_sections_are_unique_per_file() -> None:
    for path in sorted((DOCS / "api").glob("*.md")):
        names = HEADING.findall(path.read_text(encoding="utf-8"))
        assert len(names) == len(set(names)), path.name


def test_docs_links_between_reference_files_resolve() -> None:
    broken = []
    for path in sorted((DOCS / "api").glob("*.md")):
        for m in DOC_LINK.finditer(path.read_text(encoding="utf-8")):
            target = f"api/{m.group('target')}"
            if m.group("file") != m.group("target") or not (DOCS / target).is_file():
                broken.append(f"{path.name}: {m.group(0)}")
                continue
            broken.extend(
                f"{path.name}: {m.group(0)} (no §{name})"
                for name in SECTION.findall(m.group("sections"))
                if name not in _sections(target)
            )
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        pytest.param("see docs/api/subnets.md §create", ("api/subnets.md", ("create",)), id="one"),
        pytest.param(
            "(``docs/api/routers.md`` §gateway,\n§delete)",
            ("api/routers.md", ("gateway", "delete")),
            id="backticks-and-line-break",
        ),
        pytest.param(
            "# docs/api/common.md §urls,\n# §bodies;",
            ("api/common.md", ("urls", "bodies")),
            id="yaml-comment",
        ),
        pytest.param("docs/decisions.md (why)", ("decisions.md", ()), id="whole-file"),
    ],
)
def test_docs_citation_pattern_reads(text: str, cited: tuple[str, tuple[str, ...]]) -> None:
    m = CITATION.search(text)
    assert m is not None
    assert (m.group("path"), tuple(SECTION.findall(m.group("sections")))) == cited


@pytest.mark.parametrize(
    ("text", "outside"),
    [
        pytest.param("(``validation" + ".md`` §5)", True, id="bare-outside-name"),
        pytest.param("DESIGN" + ".md says", True, id="design"),
        pytest.param("docs/api/policy.md §rules", False, id="own-policy-doc"),
        pytest.param("docs/api/clients.md §tempest", False, id="own-clients-doc"),
    ],
)
def test_docs_outside_pattern_reads(text: str, outside: bool) -> None:
    assert bool(OUTSIDE.search(text)) is outside
