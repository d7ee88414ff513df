"""``python -m synthrec``: the same as the ``synthrec`` command."""
from synthrec.cli.app import main

if __name__ == "__main__":
    main()
