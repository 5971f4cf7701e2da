"""`retrain demo`: the whole product on one machine, narrated and checked."""
