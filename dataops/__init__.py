"""The platform's own tooling, run as `python -m dataops <command>` (see dataops/cli.py)."""
