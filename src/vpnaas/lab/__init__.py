"""Two gateways with real charons in network namespaces, agents and a
server: the data-plane tests' harness, ``make demo`` and the data-plane
benchmark share it (root and strongSwan needed; nothing here runs in the
API server)."""
