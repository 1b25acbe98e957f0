"""Observability: Prometheus metrics fed from the node's bus, structured logs and run reports. The core never
imports this package; the CLI attaches it to a run."""
