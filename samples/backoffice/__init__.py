"""The demo legacy back office (ClaimBase 2000) that rekey keys claims into.

Not imported by production code; rekey's tests and demo start it with :func:`create_app`
or ``python -m samples.backoffice``.
"""

from samples.backoffice.app import create_app, serve

__all__ = ["create_app", "serve"]
