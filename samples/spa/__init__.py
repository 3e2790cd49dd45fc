"""The demo single-page back office (Ledgerline) of the 2010s that rekey keys records into.

Not imported by production code; tests and demos start it with :func:`create_app`,
:func:`~samples.spa.server.running_spa` or ``python -m samples.spa``.
"""

from samples.spa.app import create_app

__all__ = ["create_app"]
