import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    """An unauthenticated API client."""
    return APIClient()


@pytest.fixture
def assert_error():
    return _assert_error


def _assert_error(response, status, code=None, field=None, words=None):
    """Every API error has one shape: code, message and (for validation) fields."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"code", "message"}, body
    assert body["message"], body
    if code:
        assert body["code"] == code, body
    if field:
        assert field in body["fields"], body
    if words:
        assert words in (body["fields"][field][0] if field else body["message"]), body
    return body
