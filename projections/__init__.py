"""Read models for status questions, kept by eventsourcing projection runners.

``base`` (views written with their tracking record; the answers' base and row readers), one
module per read model holding its schema, ``evolve``, answer types and SQL (``status``,
``queue``, ``guardians``, ``statistics``), ``catalogue`` (the four by name), ``runners``
(running them), ``queries`` (the query side: positions, read-your-writes, the four queries) and
``rebuild`` (replay and swap). The lifecycle they fold is :mod:`domain.lifecycle`.
"""
