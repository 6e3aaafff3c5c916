"""The reviewer console (``/console``): reviewers sign in, see their office's queue, decide.

``signin`` checks passwords and locks accounts, ``session`` the signed cookie and its CSRF token,
``routes`` the pages, ``dependencies`` what the composition root hands it.
"""
