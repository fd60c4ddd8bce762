"""The tests run on the database the environment names: the PostgreSQL pass of `make test`
(DATABASE_URL) is on PostgreSQL, the ordinary pass on the SQLite file, never silently the other."""
import os

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_database_is_the_one_the_environment_names():
    url = os.environ.get("RESTYLE_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    expected = "postgresql" if url.startswith(("postgres", "pgsql", "psql")) else "sqlite"
    assert connection.vendor == expected
    if expected == "postgresql":
        assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
        assert connection.settings_dict["NAME"] == "test_" + url.rsplit("/", 1)[1].split("?")[0]
