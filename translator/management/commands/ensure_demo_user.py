import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create the demo account and a staff admin if missing, each with its own password (made once "
        "per installation, kept in the var folder as demo_password and admin_password), and print them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username="demo", **options):
        demo_file, admin_file = settings.VAR_DIR / "demo_password", settings.VAR_DIR / "admin_password"
        demo_password = _password_from(demo_file, nbytes=9)  # typed by people trying the site
        admin_password = _password_from(admin_file, nbytes=18)
        demo = _ensure_user(username, demo_password, staff=False)
        admin = _ensure_user("admin", admin_password, staff=True)
        # Installations made before the two were separate gave the admin the demo password:
        # the demo password is shown to anyone trying the site, so it must not open the admin.
        if admin.check_password(demo_password):
            admin.set_password(admin_password)
            admin.save(update_fields=["password"])
        self.stdout.write(_login_line("Demo account: ", demo, demo_password, demo_file))
        self.stdout.write(_login_line("Admin account:", admin, admin_password, admin_file))


def _password_from(path, *, nbytes):
    """The password kept in `path`, made (readable by its owner only) when there is none yet."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        password = path.read_text().strip()
        if not password:
            raise CommandError(f"{path} is empty; delete it and a new password is made") from None
        return password
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


def _ensure_user(username, password, *, staff):
    """The account, made once; a password changed later is left alone."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, password=password, is_staff=staff, is_superuser=staff)
    return user


def _login_line(label, user, password, path):
    if user.check_password(password):
        return f"{label} {user.username} / {password}    (kept in {path})"
    return f"{label} {user.username} / (its password was changed; it is no longer the one in {path})"
