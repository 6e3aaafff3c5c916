"""The auditors' side of the event store: read-only access to the stored rows, the timeline and
the state at any moment, tamper evidence (per-registration chains and a sealed global chain) and
the read-model rebuild check. Nothing here writes events; only the sealer writes, to its own
tables."""
