"""retrain: GitOps, event-driven retraining of TFX models on Vertex AI."""

__version__ = "0.1.0"
