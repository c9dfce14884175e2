"""The registry of worker loops: ``default_specs`` lists every loop ``python -m recon_worker`` runs.

Each loop module adds its ``LoopSpec`` here (name, ``run_<loop>`` function, freshness budget and,
for fleet singletons, a lease name); ``--loops name,name`` picks a subset by name.
"""

from __future__ import annotations

from recon_impl.settings import Settings
from recon_worker.runtime import LoopSpec


def default_specs(settings: Settings) -> list[LoopSpec]:
    """Every loop of the worker, configured from ``settings`` (filled in as the loops are written)."""
    return []
