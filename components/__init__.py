"""Cloud-neutral ComponentResources; each asks the provider to build its cloud's resources."""
