"""The `retrain` command line: one module per domain, each registering its subcommands."""
