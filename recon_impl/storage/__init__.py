"""PostgreSQL storage: models, engine/session factory and repositories."""
