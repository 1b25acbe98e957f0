"""Risk: pre-trade limits and position sizing. Pure given its inputs; never imports the engine."""
