"""TFX pipelines built from specs. Runs in the pipeline environment (Python 3.10, TFX 1.16).

Importing this package must stay cheap: TFX is imported inside the modules that need it.
"""
