"""admin_compat: the legacy /api/admin edge (built in a later issue); never imports recon_impl."""
