"""Guardian notifications: email with the declaration PDF, SMS with a signed link, each sent once.

- ``models``: :class:`NotifyGuardianInput` / :class:`NotifyGuardianResult`, what the workflow
  imports (kept free of SMTP, PDF and template machinery);
- ``preparation``: the activity ``prepare_notification``, which builds a milestone's
  :class:`NotifyGuardianInput` from the event store and the registry;
- ``activities``: :class:`NotificationActivities` with the activity ``notify_guardian``;
- ``preview``: one milestone's email and SMS as text (``childreg notifications preview``);
- ``journal``: the port through which deliveries become events, and ``event_store_journal`` its
  adapter over the event store;
- ``kinds``, ``render``, ``declaration``, ``mail``, ``sms``, ``gateways``: what is sent and how;
- ``links``: :func:`verify_token`, for the endpoint that serves the declaration.

Nothing is imported here, so importing ``activities.notifications.models`` stays light.
"""
