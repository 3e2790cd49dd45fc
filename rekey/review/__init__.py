"""The review station: a server-rendered web app where people sign off on what rekey was
unsure of (``rekey review``).

::

    auth.py      passwords (argon2, policy), roles, sessions kept in the store, sign-in limits
    queue.py     the queue: filters, age against the SLA, masked identifiers
    shown.py     what a person is shown: identifiers masked (text, page images, audit page)
                 until an audited reveal, line items
    actions.py   corrections (rules run again), approvals (four eyes), rejections, keying
    app.py       the FastAPI routes and Jinja2 pages
    server.py    serving it (workers given time to start; the URL printed once it answers)
    cli.py       ``rekey review``, ``rekey users add|disable|enable|passwd|log``,
                 ``rekey key-approved``
"""
