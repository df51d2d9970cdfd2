"""Project-level guarantees: deploy checks, migrations, the committed OpenAPI contract."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[2]


def manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`manage.py <args>` in a fresh process with exactly `env`."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_like_variables():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "a-production-like-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "canvass.example.org",
        "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3",
    }
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
    }
    result = manage(["check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_has_no_model_changes_without_migrations(db):
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # makemigrations --check exits 1 on pending changes
        pytest.fail(f"Model changes without migrations:\n{out.getvalue()} ({exc})")


def test_it_has_a_fresh_valid_openapi_schema(tmp_path):
    # Generated as `make schema` does, against SQLite whatever database this run uses: Django
    # derives integer bounds from the backend, so PostgreSQL would print other maximums.
    fresh = tmp_path / "openapi.yaml"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": "sqlite://:memory:",
    }
    result = manage(
        [
            "spectacular",
            "--file",
            str(fresh),
            "--validate",
            "--fail-on-warn",
        ],
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    committed = ROOT / "openapi.yaml"
    assert committed.exists(), "openapi.yaml is missing: run `make schema`"
    assert committed.read_text() == fresh.read_text(), (
        "openapi.yaml is stale: run `make schema` and commit it"
    )
    validate(yaml.safe_load(fresh.read_text()))


def test_it_serves_the_schema_and_the_docs(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200


def test_the_modules_drf_settings_name_import_first_in_a_fresh_process():
    """No import cycle: DRF reads its settings (which name these modules) when
    rest_framework.views is imported, so none of them may need that module at import time."""
    from django.conf import settings

    named = {
        value.rsplit(".", 1)[0]
        for value in settings.REST_FRAMEWORK.values()
        for value in (value if isinstance(value, list | tuple) else [value])
        if isinstance(value, str) and value.startswith("api.")
    }
    assert "api.parsers" in named
    script = "import importlib, sys, django; django.setup(); importlib.import_module(sys.argv[1])"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
    }
    for module in sorted(named):
        result = subprocess.run(
            [sys.executable, "-c", script, module],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (module, result.stderr[-500:])
