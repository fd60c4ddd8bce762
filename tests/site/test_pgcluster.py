"""tests/pgcluster.py, the PostgreSQL server of `make test`'s PostgreSQL pass: a real cluster that
runs as an unprivileged user, answers its role over TCP with a password, runs a command with
DATABASE_URL and leaves nothing behind."""
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.pgcluster import Cluster

REPO = Path(__file__).resolve().parents[2]


def test_a_cluster_serves_its_role_as_an_unprivileged_user_and_is_removed_at_the_end():
    with Cluster() as cluster:
        folder = cluster.folder
        with psycopg.connect(cluster.url, connect_timeout=5) as conn:
            user, database, server_user = conn.execute(
                "SELECT current_user, current_database(), (SELECT rolname FROM pg_roles WHERE oid = "
                "(SELECT datdba FROM pg_database WHERE datname = 'postgres'))"
            ).fetchone()
        assert (user, database) == ("restyle", "restyle")
        assert server_user == "postgres"
        owner = (cluster.data / "PG_VERSION").stat().st_uid
        assert owner != 0  # the server's files are not root's
        assert (cluster.socket_dir / f".s.PGSQL.{cluster.port}").exists()  # its socket is in the folder
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(cluster.url.replace(cluster.password, "wrong"), connect_timeout=5)
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgres://restyle@127.0.0.1:{cluster.port}/restyle", connect_timeout=2)


def test_the_command_line_runs_a_command_with_database_url_and_passes_its_exit_status_on():
    code = ("import os, sys, psycopg; c = psycopg.connect(os.environ['DATABASE_URL']); "
            "print(c.execute('select current_database()').fetchone()[0]); sys.exit(3)")
    env = {k: v for k, v in os.environ.items() if k != "RESTYLE_DATABASE_URL"}
    done = subprocess.run([sys.executable, "-m", "tests.pgcluster", "--", sys.executable, "-c", code], cwd=REPO,
                          env={**env, "RESTYLE_DATABASE_URL": "postgres://elsewhere/theirs"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == "restyle"
