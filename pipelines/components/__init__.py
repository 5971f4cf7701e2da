"""Custom TFX components of retrain pipelines."""
