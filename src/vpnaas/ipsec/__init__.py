"""What an IPsec site connection means to strongSwan, shared by the agent
(which loads it into its charon) and the API (which exports it for the
remote gateway): the typed desired state and its translation to VICI
dictionaries, and what both read of a report's telemetry. Pure: no I/O,
nothing of the agent's runtime."""
