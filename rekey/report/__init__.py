"""``rekey report``: the operating figures for a period, printed and as one HTML file.

``figures`` computes them (pure functions over the store's cases and audit events),
``charts`` lays out the bar charts, ``html`` renders the self-contained page, ``command``
is the CLI command.
"""
