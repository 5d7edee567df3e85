from __future__ import annotations

import pickle

import pytest

from pytest_qatech.settings import (
    DEFAULT_API_URL,
    Secret,
    SettingsError,
    check_api_url,
    check_run_ids,
    resolve,
)

TOKEN_ENV = {"QATECH_API_TOKEN": "s3cr3t-value"}


def settings_from(cli=None, ini=None, environ=None, run_ids=("abc123",)):  # type: ignore[no-untyped-def]
    ini = ini or {}
    return resolve(
        run_ids=run_ids,
        cli=cli or {},
        ini=lambda name: ini.get(name, ""),
        environ={**TOKEN_ENV, **(environ or {})},
    )


def test_defaults() -> None:
    settings = settings_from()
    assert settings.api_url == DEFAULT_API_URL
    assert settings.poll_interval == 10.0
    assert settings.timeout == 3600.0
    assert settings.run_ids == ("abc123",)


def test_command_line_beats_ini_beats_environment() -> None:
    env = {"QATECH_API_URL": "https://env.example"}
    ini = {"qatech_api_url": "https://ini.example", "qatech_poll_interval": "3"}
    assert settings_from(environ=env).api_url == "https://env.example"
    assert settings_from(ini=ini, environ=env).api_url == "https://ini.example"
    cli = {"api_url": "https://cli.example/", "poll_interval": 0.5}
    settings = settings_from(cli=cli, ini=ini, environ=env)
    assert settings.api_url == "https://cli.example"
    assert settings.poll_interval == 0.5
    assert settings_from(ini=ini).poll_interval == 3.0


@pytest.mark.parametrize("name", ["QATECH_API_TOKEN", "QATECH_API_KEY"])
def test_token_comes_from_either_variable(name: str) -> None:
    settings = resolve(run_ids=["a"], cli={}, ini=lambda _: "", environ={name: " secret "})
    assert settings.token.reveal() == "secret"


def test_token_variable_wins_over_key_variable() -> None:
    environ = {"QATECH_API_TOKEN": "first", "QATECH_API_KEY": "second"}
    settings = resolve(run_ids=["a"], cli={}, ini=lambda _: "", environ=environ)
    assert settings.token.reveal() == "first"


@pytest.mark.parametrize("environ", [{}, {"QATECH_API_TOKEN": "  "}])
def test_missing_token_names_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="QATECH_API_TOKEN"):
        resolve(run_ids=["a"], cli={}, ini=lambda _: "", environ=environ)


def test_secret_never_shows_its_value() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in f"{secret} {[secret]} {secret!r}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert "s3cr3t-value" not in repr(settings_from())


@pytest.mark.parametrize(
    "url",
    [
        "https://api.qa.tech",
        "https://proxy.example/qatech/",
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://localhost:9",
        "http://[::1]:8000",
    ],
)
def test_accepted_api_urls(url: str) -> None:
    assert check_api_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://api.qa.tech", "plain http"),
        ("http://10.0.0.1", "plain http"),
        ("http://localhost.evil.example", "plain http"),
        ("ftp://api.qa.tech", "not an http"),
        ("api.qa.tech", "not an http"),
        ("https://api.qa.tech/?x=1", "query"),
    ],
)
def test_rejected_api_urls(url: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        check_api_url(url)


@pytest.mark.parametrize("run_id", ["", " ", "a b", "a/b", "..", "a?b", "a#b", "x" * 129, "é"])
def test_implausible_run_ids_are_refused(run_id: str) -> None:
    with pytest.raises(SettingsError, match="not a run short id"):
        check_run_ids([run_id])


def test_repeated_run_ids_count_once() -> None:
    assert check_run_ids(["b", "a", "b"]) == ("b", "a")


@pytest.mark.parametrize(
    ("field", "value"), [("poll_interval", "soon"), ("timeout", "0"), ("timeout", "-1")]
)
def test_bad_numbers_are_usage_errors(field: str, value: str) -> None:
    with pytest.raises(SettingsError, match="seconds"):
        settings_from(cli={field: value})


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(SettingsError):
        settings_from(ini={"qatech_timeout": "inf"})


def test_project_slug_from_command_line_ini_or_environment() -> None:
    assert settings_from().project is None
    assert settings_from(environ={"QATECH_PROJECT": "env-p"}).project == "env-p"
    ini = {"qatech_project": "ini-p"}
    assert settings_from(ini=ini, environ={"QATECH_PROJECT": "env-p"}).project == "ini-p"
    assert settings_from(cli={"project": "cli-p"}, ini=ini).project == "cli-p"


@pytest.mark.parametrize("slug", ["a/b", "..", "a b", "x?y"])
def test_project_slug_must_be_safe_in_a_url(slug: str) -> None:
    with pytest.raises(SettingsError, match="not a project slug"):
        settings_from(cli={"project": slug})
