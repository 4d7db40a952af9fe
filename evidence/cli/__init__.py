"""The ``evidence`` command: parse options, call one job of ``Library``, render, map errors to exit codes.

The only package that reads ``os.environ``, prints or exits. Exit codes (DESIGN.md): 0 all good, 1 the command ran
and found problems, 2 usage, 3 bad input or library, 4 network unavailable. A traceback only with ``--debug``.
``settings`` turns options and the environment into one object, ``commands`` has one function per command,
``progress`` the bars on stderr, ``main`` the entry point that places global options and maps errors.
"""
