"""``evidence serve``: the library as pages in the user's own browser, on their own machine.

The tree: ``guard`` (what every request must pass: loopback Host, same Origin for writes, a bounded body),
``site`` (the library, its token and the running jobs that every page shares), ``pages`` (one handler per page,
each calling ``Library`` only), ``jobs`` (additions that run while other pages keep answering), ``templating``
(Jinja2 with every value escaped), ``server`` (uvicorn bound to loopback, and the browser opened).
"""
