"""Decoders for the events the service receives: I/O-free, one domain error (EventError).

Each decoder takes a Cloud Logging entry (already unwrapped from its Pub/Sub envelope by
`retrain.events.envelope`) and returns a typed event, or `Dismissed` when the entry is
well-formed but not something the service acts on. Schedule ticks are not log entries: their
decoder takes the whole Envelope, because the tick's key is the message's publish time.
"""

from retrain.events.envelope import Envelope, unwrap
from retrain.events.types import (
    DataArrival,
    Dismissed,
    DriftAlert,
    FeatureDrift,
    RunStateChange,
    ScheduleTick,
)

__all__ = [
    "DataArrival",
    "Dismissed",
    "DriftAlert",
    "Envelope",
    "FeatureDrift",
    "RunStateChange",
    "ScheduleTick",
    "unwrap",
]
