"""Research: walk-forward training of the learned selector, its evaluation against baselines, and the
statistics that tell skill from luck (used by `bot train` and `bot optimize`)."""
