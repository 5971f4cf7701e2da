"""The model inventory: recorded facts read back through the service's ports, as `retrain
status`, `lineage`, `explain` and a static site (`retrain inventory`)."""
