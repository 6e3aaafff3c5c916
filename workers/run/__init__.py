"""The long-running processes, each started by a ``childreg`` command (``workers.cli.run``):

- ``worker``: the Temporal worker of the registration workflow;
- ``projector``: the read models' runners, with the audit ``sealer`` beside them;
- ``codec_server``: the AES-GCM payload codec over HTTP, for the ``temporal`` CLI and Web UI;
- ``dev``: the whole stack on one machine (embedded PostgreSQL, ``temporal server start-dev``,
  the ``smtp_sink``, worker, projector), and the ``demo`` it plays on the ``demo_registry``.
"""
