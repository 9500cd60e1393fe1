"""Where the repository's files are, for tests that read the docs, the image files or CI."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
