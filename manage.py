#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    from django.core.management import execute_from_command_line

    from apps.core.audit import audit_context

    # Everything a management command changes is recorded as done through a command.
    with audit_context(path="command"):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
