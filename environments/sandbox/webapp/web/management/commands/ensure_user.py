"""ensure_user EMAIL_VAR PASSWORD_VAR: creates (or resets) the account whose email and password
are in those environment variables — the smoke checks' dedicated accounts. Secrets never travel
on a command line, so the command takes the variables' names, not their values."""
import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or reset an account from two environment variables (names, not values)."

    def add_arguments(self, parser):
        parser.add_argument("email_var")
        parser.add_argument("password_var")

    def handle(self, email_var, password_var, **options):
        email, password = os.environ.get(email_var), os.environ.get(password_var)
        if not email or not password:
            raise CommandError(f"set {email_var} and {password_var} in the environment")
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
        user.email = email
        user.set_password(password)
        user.is_active = True
        user.save()
        self.stdout.write(f"account {email} ready")
