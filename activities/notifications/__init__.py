"""Guardian notifications: email with the declaration PDF, SMS with a signed link, each sent once.

- ``models``: :class:`NotifyGuardianInput` / :class:`NotifyGuardianResult`, what the workflow
  imports (kept free of SMTP, PDF and template machinery);
- ``activities``: :class:`NotificationActivities` with the activity ``notify_guardian``;
- ``preview``: one milestone's email and SMS as text (``childreg notifications preview``);
- ``journal``: the port through which deliveries become events;
- ``links``: :func:`verify_token`, for the endpoint that serves the declaration.

Nothing is imported here, so importing ``activities.notifications.models`` stays light.
"""
