"""What the jobs return: frozen dataclasses the command line renders and the Python API hands back as they are;
one module per family of jobs, so a command imports only the results it builds."""
