"""A throwaway PostgreSQL cluster for the tests: made in a temporary folder, on a free port, and
removed at the end.

    python -m tests.pgcluster -- python -m pytest tests/translator

starts one, runs the command with DATABASE_URL naming its database (every process the tests
start inherits it: Celery workers, gunicorn), and stops and removes the cluster when the
command ends, whatever its result. `make test` runs its PostgreSQL pass this way.

The server runs as an unprivileged user, never root: as the `postgres` user (`runuser -u
postgres`) when we are root, as ourselves otherwise. Its Unix socket is in the temporary folder
(not /var/run/postgresql, which may not exist or belong to the machine's own server); the tests
connect over TCP on 127.0.0.1 with a password, as a web or worker host connects to its server.
Durability is switched off (fsync, synchronous commit): the cluster lives for one test run.
"""
import argparse
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

ROLE = "restyle"


def find_bin():
    """The folder of initdb and pg_ctl: RESTYLE_PG_BIN, else the newest /usr/lib/postgresql/N/bin."""
    if os.environ.get("RESTYLE_PG_BIN"):
        return Path(os.environ["RESTYLE_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); `make test` installs it "
            "(site/install-system-packages.sh postgresql), or set RESTYLE_PG_BIN"
        )
    return found[-1].parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, *, bin_dir=None, port=None):
        self.bin_dir = Path(bin_dir) if bin_dir else find_bin()
        self.port = port or free_port()
        self.password = secrets.token_urlsafe(16)
        self.folder = None
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def data(self):
        return self.folder / "data"

    @property
    def socket_dir(self):
        return self.folder / "socket"

    @property
    def url(self):
        return f"postgres://{ROLE}:{self.password}@127.0.0.1:{self.port}/{ROLE}"

    def _run(self, *argv, stdin=None):
        done = subprocess.run([*self._as_user, *argv], input=stdin, capture_output=True, text=True, cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self):
        self.folder = Path(tempfile.mkdtemp(prefix="restyle-pg-"))
        try:
            self.socket_dir.mkdir()
            if self._as_user:
                shutil.chown(self.folder, "postgres", "postgres")
                shutil.chown(self.socket_dir, "postgres", "postgres")
            password_file = self.folder / "superuser-password"
            password_file.write_text(secrets.token_urlsafe(16))
            if self._as_user:
                shutil.chown(password_file, "postgres", "postgres")
            # Local (socket) connections by the server's own OS user only; TCP ones by password.
            self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--pwfile",
                      str(password_file), "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8",
                      "--locale=C.UTF-8", "--no-sync")
            options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"),
                      "-o", options, "-w", "-t", "60", "start")
            # The role may create databases: Django's test runner makes test_<name> beside its own.
            self.psql(f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{self.password}'",
                      f"CREATE DATABASE {ROLE} OWNER {ROLE}")
        except BaseException:
            self.stop()
            raise
        log.info("PostgreSQL cluster on port %d in %s", self.port, self.folder)
        return self

    def psql(self, *statements):
        """Run SQL as the cluster's superuser, over its Unix socket."""
        argv = [str(self.bin_dir / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres",
                "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]
        for statement in statements:
            argv += ["-c", statement]
        return self._run(*argv)

    def log_text(self):
        path = self.folder / "server.log" if self.folder else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def stop(self):
        if self.folder is None:
            return
        if (self.data / "postmaster.pid").exists():
            # Immediate: the cluster is thrown away, there is nothing to write out.
            subprocess.run([*self._as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                            "-w", "stop"], capture_output=True, cwd=self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run (after --)")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # SIGTERM (a CI runner giving up) still stops the server and removes the folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with Cluster() as cluster:
        env = {**os.environ, "DATABASE_URL": cluster.url}
        env.pop("RESTYLE_DATABASE_URL", None)  # it would win over ours
        done = subprocess.run(command, env=env)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
