"""The web tier: the ASGI application people and non-Temporal clients reach.

The guardians' declaration links, the upstreams' document intake, the operators' health checks.
:func:`web.app.create_app` builds it from the dependencies it is handed; ``workers/run/web.py`` builds
those from the settings and runs it on uvicorn. Nothing here reads the environment or connects at
import time.
"""
