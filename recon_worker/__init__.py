"""recon_worker: the trio process that runs recon's background loops (built in a later issue)."""
