"""The application as a deployer meets it: configuration, error pages, the WSGI entry point."""

from __future__ import annotations

import pytest

from config import ProductionConfig
from petition import create_app


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setattr(ProductionConfig, "BASE_URL", "https://letters.example.org")
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    monkeypatch.setattr(ProductionConfig, "INSTANCE_PATH", str(tmp_path))

    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app("production")

    assert not (tmp_path / "secret_key").exists(), "production must never invent a key"


def test_production_refuses_to_start_without_its_public_address(monkeypatch, tmp_path):
    monkeypatch.setattr(ProductionConfig, "BASE_URL", "")
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "a-long-random-secret-from-the-environment")
    monkeypatch.setattr(ProductionConfig, "INSTANCE_PATH", str(tmp_path))

    with pytest.raises(RuntimeError, match="BASE_URL is not set"):
        create_app("production")


def test_production_starts_with_a_secret_key_and_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setattr(ProductionConfig, "BASE_URL", "https://letters.example.org")
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "a-long-random-secret-from-the-environment")
    monkeypatch.setattr(ProductionConfig, "INSTANCE_PATH", str(tmp_path))

    app = create_app("production")

    assert app.config["SECRET_KEY"] == "a-long-random-secret-from-the-environment"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.debug and not app.testing


def test_development_keeps_a_generated_key_across_restarts(tmp_path, monkeypatch):
    from config import DevelopmentConfig

    monkeypatch.setattr(DevelopmentConfig, "SECRET_KEY", None)
    monkeypatch.setattr(DevelopmentConfig, "INSTANCE_PATH", str(tmp_path))

    first = create_app("development").config["SECRET_KEY"]
    second = create_app("development").config["SECRET_KEY"]

    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0, "the key file is private"


def test_an_unknown_environment_name_is_refused():
    with pytest.raises(RuntimeError, match="Unknown APP_ENV"):
        create_app("staging")


@pytest.fixture
def app_config(app_config):
    # Let errors reach the error handlers, as in production.
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


def test_an_unexpected_error_shows_the_sites_500_page(app, client):
    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/broken", view_func=broken)

    response = client.get("/broken")

    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert 'class="site-header' in page, "in the site's style"
    assert "a bug" not in page and "Traceback" not in page


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [("/national/no-such-letter", 404, "Page not found"), ("/coordinator/sign-out", 405, "Not allowed")],
)
def test_error_pages_are_in_the_sites_style(client, path, status, title):
    response = client.get(path)

    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert f"<h1>{title}</h1>" in page
    assert 'class="site-header' in page and "Skip to main content" in page


def test_an_unknown_sqlite_synchronous_setting_is_refused_at_start_on_sqlite(app_config, backend):
    config = {**app_config, "SQLITE_SYNCHRONOUS": "fast"}
    if backend == "sqlite":
        with pytest.raises(RuntimeError, match="SQLITE_SYNCHRONOUS must be NORMAL, FULL, EXTRA or OFF"):
            create_app(config)
    else:
        assert create_app(config).config["SQLITE_SYNCHRONOUS"] == "fast"  # read by SQLite only


@pytest.mark.words
def test_a_web_process_does_not_load_the_pdf_and_spreadsheet_libraries_until_it_needs_them():
    """WeasyPrint, pyHanko and openpyxl cost every process memory (about 12 MB together at start):
    only a worker that makes a PDF, or a request for an XLSX, loads them."""
    import subprocess
    import sys

    script = ("import sys; from petition import create_app; create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'}); "
              "print(sorted(m for m in ('weasyprint', 'pyhanko', 'openpyxl', 'pypdf') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr
