from __future__ import annotations

from pathlib import Path

import pytest

from retrain.inventory.gather import Inventory, gather
from retrain.settings import Settings
from retrain.wiring import build_inventory
from tests.inventory.world import World, build


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("work") / "demo")


@pytest.fixture(scope="module")
def inventory(world: World) -> Inventory:
    return gather(build_inventory(Settings(), cloud=False, workdir=world.root))


def cli_env(monkeypatch: pytest.MonkeyPatch, cwd: Path) -> None:
    for name in ("RETRAIN_FIRESTORE_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(cwd)
