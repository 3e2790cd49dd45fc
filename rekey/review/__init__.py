"""The review station: a server-rendered web app where people sign off on what rekey was
unsure of (``rekey review``).

::

    auth.py      passwords (argon2), roles, signed expiring sessions, CSRF tokens
    queue.py     the queue: filters, age against the SLA, masked identifiers
    actions.py   corrections (rules run again), approvals (four eyes), rejections, keying
    app.py       the FastAPI routes and Jinja2 pages
    server.py    serving it on a loopback port
    cli.py       ``rekey review``, ``rekey users add``, ``rekey key-approved``
"""
