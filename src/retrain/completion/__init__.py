"""From a finished run to a PR comment or a promotion PR: the pure plan (`decide`), the metric
history (`history`) and the handler that carries the plan out (`handler`)."""

from retrain.completion.handler import CompletionHandler, CompletionResult

__all__ = ["CompletionHandler", "CompletionResult"]
