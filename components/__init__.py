"""The platform's Pulumi components, one per file; the stack config model is the config/ package
and the cluster, by concern, the cluster/ package."""
