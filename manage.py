#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # manage.py is the developer's entry point (demo, imports, cut_turfs): it defaults to DEBUG
    # so it runs with no set-up. Production processes start from config.wsgi, which has no such
    # default, and production management commands run with DEBUG=0 from the environment, where
    # SECRET_KEY is then required.
    os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
