"""Clients of the systems recon depends on."""
