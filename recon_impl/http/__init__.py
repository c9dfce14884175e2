"""recon_service's HTTP edge: the Connexion app factory, middleware, error mapping, handlers."""
