"""Settle what faults left behind (see translator.sweeper): once, or for ever."""
import os
import signal

from django.core.management.base import BaseCommand

from translator import sweeper


class Command(BaseCommand):
    help = "Settle jobs whose worker died and resend messages that may be lost: once, or with --forever."

    def add_arguments(self, parser):
        parser.add_argument("--forever", action="store_true", help="sweep every RESTYLE_SWEEP_SECONDS until stopped")
        parser.add_argument("--parent", type=int, help="stop when this process is gone (the worker it serves)")

    def handle(self, *args, forever=False, parent=None, **options):
        if not forever:
            self.stdout.write(str(sweeper.sweep_once()))
            return
        signal.signal(signal.SIGTERM, lambda *_: sweeper._stop.set())
        # A worker killed with SIGKILL tells nobody: notice that it is gone (we are re-parented).
        sweeper.sweep_forever(alive=lambda: parent is None or os.getppid() == parent)
