"""In-process Schemathesis contract suites for recon_service (internal and device APIs).

A package, so that ``contract_tests/test_device_api.py`` does not collide with
``tests/service/test_device_api.py`` under pytest's default import mode.
"""
