"""The committed recon client is what the pinned generator makes of the current internal spec."""

from __future__ import annotations

import filecmp
from pathlib import Path

from admin_compat.gen_client import PACKAGE, generate


def tree(root: Path) -> dict[str, Path]:
    files = (p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p for p in files if not {"__pycache__", ".ruff_cache"} & set(p.parts)}


def test_the_committed_client_matches_a_fresh_generation_from_the_spec(tmp_path: Path) -> None:
    """Fails when openapi/recon-internal.yaml changed and `./dev gen-client` was not run."""
    fresh = tmp_path / "recon_api"
    generate(fresh)
    committed, generated = tree(PACKAGE), tree(fresh)
    assert sorted(committed) == sorted(generated), "run ./dev gen-client"
    stale = [name for name in generated if not filecmp.cmp(committed[name], generated[name], shallow=False)]
    assert stale == [], f"stale generated files {stale}: run ./dev gen-client"
