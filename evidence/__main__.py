"""``python -m evidence`` runs the same command as the ``evidence`` script."""

from evidence.cli.main import main

if __name__ == "__main__":
    main()
