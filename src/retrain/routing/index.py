"""Specs indexed the way events look them up: by watched table, and by model name."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from retrain.events.drift import monitor_key
from retrain.spec import Spec, load_specs, spec_paths


class SpecIndex:
    """Lookups are dict hits, so an event about an unwatched table costs almost nothing."""

    def __init__(self, specs: Iterable[Spec]) -> None:
        self._specs: dict[str, Spec] = {}
        self._versions: dict[str, str] = {}
        self._by_table: dict[str, list[Spec]] = {}
        self._by_model: dict[str, list[Spec]] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"spec {spec.name!r} is listed twice")
            self._specs[spec.name] = spec
            self._versions[spec.name] = spec.fingerprint()
            self._by_table.setdefault(spec.data.table, []).append(spec)
            monitors = {monitor_key(m) for m in spec.triggers.drift.monitors}
            for model in {spec.name, spec.promotion.registry_model, *monitors}:
                self._by_model.setdefault(model, []).append(spec)

    def __len__(self) -> int:
        return len(self._specs)

    def specs(self) -> list[Spec]:
        return list(self._specs.values())

    def get(self, name: str) -> Spec | None:
        return self._specs.get(name)

    def version(self, name: str) -> str:
        return self._versions[name]

    def watching(self, table: str) -> list[Spec]:
        return self._by_table.get(table, [])

    def for_models(self, names: Iterable[str]) -> list[Spec]:
        """Specs named by any of `names` (spec name, registry model, or a Model Monitoring
        resource `KIND/ID` from `triggers.drift.monitors`), first match wins."""
        for name in names:
            found = self._by_model.get(name)
            if found:
                return found
        return []


def load_index(directory: str | Path) -> SpecIndex:
    """Load every spec in `directory` (`retrain.spec.load` rules, without the code checks the
    functions cannot run); raise one SpecError listing all problems."""
    return SpecIndex(load_specs(spec_paths([directory]), check_code=False))
