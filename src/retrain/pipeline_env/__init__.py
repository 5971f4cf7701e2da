"""The service's side of the pipeline environment (Python 3.10, TFX 1.16): where it is and how a
module of `pipelines/` runs in it (`process`), local runs (`local_run`), incremental compiles
(`compile`) and schema inference (`schema_infer`). Nothing here imports TFX."""
