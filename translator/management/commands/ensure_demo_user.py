import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo account (and a staff admin) if missing, and print their credentials."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username="demo", **options):
        # The password is made once per installation and kept beside the database.
        secret_file = settings.VAR_DIR / "demo_password"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(9))
            secret_file.chmod(0o600)
        password = secret_file.read_text().strip()
        User = get_user_model()
        for name, staff in ((username, False), ("admin", True)):
            if not User.objects.filter(username=name).exists():
                # Made once; a password changed later is left alone.
                User.objects.create_user(
                    username=name, password=password, is_staff=staff, is_superuser=staff
                )
        self.stdout.write(f"Demo account: {username} / {password}    Admin: admin / {password}")
