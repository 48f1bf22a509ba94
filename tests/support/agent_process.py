"""The data-plane tests' agent processes (:mod:`vpnaas.lab.agent_process`,
shared with ``make demo`` and the benchmark)."""

from vpnaas.lab.agent_process import AgentProcess

__all__ = ["AgentProcess"]
