"""Schema-driven fuzzing: schemathesis reads the schema the running server serves and sends
generated requests to every operation; none may answer with a server error or break the schema.
Bounded: a few examples per operation, so it runs in seconds inside `make test`."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance

from translator import services


@pytest.fixture
def api_schema(live_server, transactional_db, django_user_model, art_model, upload_file, settings):
    settings.RESTYLE_UPLOAD_RATE = "100000/hour"
    settings.RESTYLE_SIGNUP_RATE = "100000/hour"
    user = django_user_model.objects.create_user("fuzzer", password="fuzz-password-1")
    # Something to find: a conversion of the fuzzing user's own.
    services.create_conversion(owner=user, upload=upload_file(), art_model=art_model)
    token = Token.objects.create(user=user).key
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    schema.config.headers = {"Authorization": f"Token {token}"}
    # Revoking the token would leave every later operation unauthenticated; test_api_auth covers it.
    return schema.exclude(method="DELETE", path="/api/v1/auth/token/")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_with_a_server_error_or_breaks_its_schema(case):
    # Every check but "schema-valid data must be accepted": business rules the schema cannot
    # state (a common password, random bytes that are not a photo) rightly answer 400.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
