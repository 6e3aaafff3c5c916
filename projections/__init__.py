"""Read models for status questions, kept by eventsourcing projection runners.

``base`` (views written with their tracking record), one module per read model (``status``,
``queue``, ``guardians``, ``statistics``), ``catalogue`` (the four by name), ``runners``
(running them), ``queries`` (the query API) and ``rebuild`` (replay and swap).
"""
