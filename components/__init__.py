"""The platform's Pulumi components, one per file; the stack config model is in config.py."""
