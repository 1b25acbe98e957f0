"""The REST API (FastAPI): `botnft.api.app.create_app(settings)` builds it, `bot serve` runs it. It reads
the store and talks to nodes; it never trades itself. FastAPI is imported only under this package."""
