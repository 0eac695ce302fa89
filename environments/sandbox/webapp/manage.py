#!/usr/bin/env python3
"""Django's command-line utility for the sandbox web application.

Run it with Debian's interpreter: /usr/bin/python3 manage.py <command> (pyenv's python3 cannot
import Debian's python3-django).
"""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
