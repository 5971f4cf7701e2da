"""Where pipeline runs happen: the RunBackend port and its Vertex and local adapters."""

from retrain.backends.base import JobInfo, RunBackend

__all__ = ["JobInfo", "RunBackend"]
