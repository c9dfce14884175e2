from pathlib import Path
import schemathesis
from hypothesis import settings, HealthCheck
from conftest import SERVICE_TOKEN
ROOT = Path("/work/main")
CONFIG = schemathesis.Config.from_path(str(ROOT / "schemathesis.toml"))
schema = schemathesis.openapi.from_path(ROOT / "openapi/recon-internal.yaml", config=CONFIG)

@schema.parametrize()
@settings(max_examples=40, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_internal(case, shared_app, clean_stores):
    case.call_and_validate(app=shared_app, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
