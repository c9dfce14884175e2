"""recon_impl: recon_service (HTTP), its storage and the recon domain."""
