"""Specs indexed the way events look them up: by watched table, and by model name."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from retrain.errors import Problem, SpecError
from retrain.spec import Spec, spec_paths
from retrain.spec.load import parse_spec


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
            for model in {spec.name, spec.promotion.registry_model}:
                self._by_model.setdefault(model, []).append(spec)

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str) -> Spec | None:
        return self._specs.get(name)

    def version(self, name: str) -> str:
        return self._versions[name]

    def watching(self, table: str) -> list[Spec]:
        return self._by_table.get(table, [])

    def for_models(self, names: Iterable[str]) -> list[Spec]:
        """Specs named by any of `names` (spec name or registry model), first match wins."""
        for name in names:
            found = self._by_model.get(name)
            if found:
                return found
        return []


def load_index(directory: str | Path) -> SpecIndex:
    """Parse every spec in `directory`; raise one SpecError listing all problems.

    Unlike `retrain validate`, trainer modules are not imported-checked: the functions do not
    ship the pipeline package, and CI has validated the specs before they were deployed.
    """
    specs: list[Spec] = []
    problems: list[Problem] = []
    for path in spec_paths([directory]):
        try:
            spec = parse_spec(path.read_text(encoding="utf-8"), str(path))
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), 1, "", f"cannot read: {exc}"))
            continue
        if spec.name != path.stem:
            problems.append(
                Problem(str(path), 1, "name", f"name {spec.name!r} must match the file name")
            )
            continue
        specs.append(spec)
    if problems:
        raise SpecError(problems)
    return SpecIndex(specs)
