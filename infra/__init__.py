"""Deployment and local-run support: container files and loopback doubles."""
