"""FastAPI routers, one module per area; ``diagnostics.app`` collects them."""
