"""State that cannot be derived (row counters, debounce windows, events seen), behind a port."""

from retrain.state.base import EventRecord, SpecState, StateStore, Step, Transition
from retrain.state.memory import MemoryStore

__all__ = ["EventRecord", "MemoryStore", "SpecState", "StateStore", "Step", "Transition"]
