"""Decoders for the events the service receives: I/O-free, one domain error (EventError).

Each decoder takes a Cloud Logging entry (already unwrapped from its Pub/Sub envelope by
`retrain.events.envelope`) and returns a typed event, or `Dismissed` when the entry is
well-formed but not something the service acts on.
"""

from retrain.events.envelope import Envelope, unwrap
from retrain.events.types import DataArrival, Dismissed, DriftAlert, FeatureDrift, RunStateChange

__all__ = [
    "DataArrival",
    "Dismissed",
    "DriftAlert",
    "Envelope",
    "FeatureDrift",
    "RunStateChange",
    "unwrap",
]
