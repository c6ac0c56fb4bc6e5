"""One module per `n2a` subcommand (discovered by cli.py)."""
