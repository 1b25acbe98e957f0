"""Paper trading: the trading node on replayed history at a real-time pace, with paper venues that keep
their own state, a journal and snapshots for crash recovery, and reconciliation on resume (DESIGN §3b)."""
