"""Settings: one table, command line > ini > environment > default, checked before any request."""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping, Sequence

import pytest

from pytest_qatech.core.lookup import Lookup, SettingsError, check_api_url
from pytest_qatech.core.models import SkippedSource
from pytest_qatech.core.options import (
    PLATFORMS,
    QATECH_PLAN,
    QATECH_START,
    RERUNS,
    TESTVIBE_SERVER,
)
from pytest_qatech.core.platforms import PROVIDERS, Settings, resolve
from pytest_qatech.core.providers.base import RunSource
from pytest_qatech.core.providers.qatech import QatechProvider
from pytest_qatech.core.secrets import Secret

TOKEN_ENV = {"QATECH_API_TOKEN": "s3cr3t-value"}
TESTVIBE_ENV = {
    "TESTVIBE_API_KEY": "tv-key",
    "TESTVIBE_SERVER": "https://testvibe.example",
    "TESTVIBE_PROJECT": "proj-1",
}
AUTONOMA_ENV = {"AUTONOMA_CLIENT_ID": "a-id", "AUTONOMA_CLIENT_SECRET": "a-secret"}


def settings_from(
    cli: Mapping[str, object] | None = None,
    ini: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    **requested: Sequence[str],
) -> Settings:
    cli, ini = cli or {}, ini or {}
    lookup = Lookup(cli.get, lambda name: ini.get(name, ""), {**TOKEN_ENV, **(environ or {})})
    return resolve(requested or {"qatech": ["abc123"]}, lookup)


def only_source(settings: Settings) -> RunSource:
    (source,) = settings.sources
    return source


def test_every_platform_of_the_table_has_one_provider() -> None:
    assert [provider.platform for provider in PROVIDERS] == list(PLATFORMS)


def test_defaults() -> None:
    settings = settings_from()
    assert only_source(settings).api_url == "https://api.qa.tech"
    assert only_source(settings).run_ids == ("abc123",)
    assert settings.poll_interval == 10.0
    assert settings.timeout == 3600.0


def test_command_line_beats_ini_beats_environment() -> None:
    env = {"QATECH_API_URL": "https://env.example"}
    ini = {"qatech_api_url": "https://ini.example", "qatech_poll_interval": "3"}
    assert only_source(settings_from(environ=env)).api_url == "https://env.example"
    assert only_source(settings_from(ini=ini, environ=env)).api_url == "https://ini.example"
    cli = {"qatech_api_url": "https://cli.example/", "qatech_poll_interval": 0.5}
    settings = settings_from(cli=cli, ini=ini, environ=env)
    assert only_source(settings).api_url == "https://cli.example"
    assert settings.poll_interval == 0.5
    assert settings_from(ini=ini).poll_interval == 3.0


@pytest.mark.parametrize("name", ["QATECH_API_TOKEN", "QATECH_API_KEY"])
def test_token_comes_from_either_variable(name: str) -> None:
    lookup = Lookup(lambda _: None, lambda _: "", {name: " secret "})
    provider = only_source(resolve({"qatech": ["a"]}, lookup)).provider
    assert provider.auth_headers()["Authorization"].reveal() == "Bearer secret"


def test_token_variable_wins_over_key_variable() -> None:
    environ = {"QATECH_API_TOKEN": "first", "QATECH_API_KEY": "x"}
    lookup = Lookup(lambda _: None, lambda _: "", environ)
    provider = only_source(resolve({"qatech": ["a"]}, lookup)).provider
    assert provider.auth_headers()["Authorization"].reveal() == "Bearer first"


@pytest.mark.parametrize("environ", [{}, {"QATECH_API_TOKEN": "  "}])
def test_missing_token_names_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as raised:
        resolve({"qatech": ["a"]}, Lookup(lambda _: None, lambda _: "", environ))
    assert str(raised.value).startswith(
        "--qatech-run needs an API token: set QATECH_API_TOKEN (or QATECH_API_KEY) in the "
        "environment"
    )


def test_a_token_never_comes_from_the_command_line_or_an_ini_file() -> None:
    sources = {"QATECH_API_TOKEN": "t", "qatech_api_token": "t", "api_token": "t"}
    with pytest.raises(SettingsError, match="QATECH_API_TOKEN"):
        resolve({"qatech": ["a"]}, Lookup(sources.get, lambda name: sources.get(name, ""), {}))


def test_secret_never_shows_its_value() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in f"{secret} {[secret]} {secret!r}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    everything = settings_from(
        environ={**TESTVIBE_ENV, **AUTONOMA_ENV},
        qatech=["a"],
        testvibe=["1"],
        autonoma=["b"],
    )
    shown = repr(everything)
    for value in ("s3cr3t-value", "tv-key", "a-id", "a-secret"):
        assert value not in shown


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
    assert check_api_url(url, "--qatech-api-url") == url.rstrip("/")


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
    with pytest.raises(SettingsError, match=f"--some-url .*{reason}"):
        check_api_url(url, "--some-url")


@pytest.mark.parametrize("run_id", ["", " ", "a b", "a/b", "..", "a?b", "a#b", "x" * 129, "é"])
def test_implausible_run_ids_are_refused(run_id: str) -> None:
    with pytest.raises(SettingsError, match=r"--qatech-run .* is not a run short id"):
        settings_from(qatech=[run_id])
    with pytest.raises(SettingsError, match=r"--autonoma-run .* is not an Autonoma test run id"):
        settings_from(environ=AUTONOMA_ENV, autonoma=[run_id])


def test_repeated_run_ids_count_once() -> None:
    assert only_source(settings_from(qatech=["b", "a", "b"])).run_ids == ("b", "a")
    testvibe = settings_from(environ=TESTVIBE_ENV, testvibe=["7", "07", "8"])
    assert only_source(testvibe).run_ids == ("7", "8")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "qatech_poll_interval",
            "soon",
            "--qatech-poll-interval 'soon' is not a number of seconds",
        ),
        ("qatech_timeout", "0", "--qatech-timeout must be a positive number of seconds, not '0'"),
        ("qatech_timeout", "-1", "--qatech-timeout must be a positive number of seconds"),
        ("qatech_timeout", "inf", "--qatech-timeout must be a positive number of seconds"),
        ("qatech_poll_interval", "nan", "--qatech-poll-interval must be a positive number"),
        ("qatech_max_flaky", "-1", "--qatech-max-flaky must be a whole number, 0 or more"),
        ("qatech_max_flaky", "some", "--qatech-max-flaky must be a whole number, 0 or more"),
    ],
)
def test_bad_numbers_are_usage_errors(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from(cli={name: value})
    assert str(raised.value).startswith(message)


def test_project_slug_from_command_line_ini_or_environment() -> None:
    def link(settings: Settings) -> str | None:
        return only_source(settings).provider.run_url("r1")

    assert link(settings_from()) is None
    assert link(settings_from(environ={"QATECH_PROJECT": "env-p"})) == (
        "https://app.qa.tech/p/env-p/results/r1"
    )
    ini = {"qatech_project": "ini-p"}
    assert "/p/ini-p/" in str(link(settings_from(ini=ini, environ={"QATECH_PROJECT": "env-p"})))
    assert "/p/cli-p/" in str(link(settings_from(cli={"qatech_project": "cli-p"}, ini=ini)))


@pytest.mark.parametrize("slug", ["a/b", "..", "a b", "x?y"])
def test_project_slug_must_be_safe_in_a_url(slug: str) -> None:
    with pytest.raises(SettingsError, match=r"--qatech-project .* is not a project slug"):
        settings_from(cli={"qatech_project": slug})


def test_details_setting_from_command_line_ini_or_environment() -> None:
    def mode(
        cli: Mapping[str, str] | None = None,
        ini: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> str:
        return repr(only_source(settings_from(cli, ini, environ)).provider)

    assert mode() == (
        "QatechProvider(project=None, details='failed', trace_steps=100, reruns_only='all')"
    )
    assert "details='none'" in mode(environ={"QATECH_DETAILS": "none"})
    assert "details='all'" in mode(ini={"qatech_details": "all"}, environ={"QATECH_DETAILS": "x"})
    assert "details='none'" in mode(cli={"qatech_details": "none"}, ini={"qatech_details": "all"})
    with pytest.raises(SettingsError) as raised:
        mode(cli={"qatech_details": "some"})
    assert str(raised.value).startswith("--qatech-details 'some' is not one of failed, all, none")


def test_trace_steps_from_command_line_ini_or_environment() -> None:
    def steps(
        cli: Mapping[str, str] | None = None,
        ini: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> str:
        provider = only_source(settings_from(cli, ini, environ)).provider
        assert isinstance(provider, QatechProvider)
        return f"trace_steps={provider.trace_steps}"

    assert steps() == "trace_steps=100"
    assert steps(environ={"QATECH_TRACE_STEPS": "0"}) == "trace_steps=0"
    assert steps(ini={"qatech_trace_steps": "7"}, environ={"QATECH_TRACE_STEPS": "0"}) == (
        "trace_steps=7"
    )
    assert steps(cli={"qatech_trace_steps": "30"}, ini={"qatech_trace_steps": "7"}) == (
        "trace_steps=30"
    )
    with pytest.raises(SettingsError, match="--qatech-trace-steps must be a whole number"):
        steps(cli={"qatech_trace_steps": "-1"})


def test_each_platform_with_runs_is_one_source_in_the_order_asked() -> None:
    settings = settings_from(
        environ={**TESTVIBE_ENV, **AUTONOMA_ENV}, autonoma=["z"], testvibe=[], qatech=["q"]
    )
    assert [(s.provider.name, s.run_ids) for s in settings.sources] == [
        ("autonoma", ("z",)),
        ("qatech", ("q",)),
    ]


def test_testvibe_settings() -> None:
    source = only_source(settings_from(environ=TESTVIBE_ENV, testvibe=["214"]))
    assert source.api_url == "https://testvibe.example"
    assert source.provider.status_request("214").path == "/api/v1/ops/projects/proj-1/runs/214"
    assert source.provider.auth_headers()["Authorization"].reveal() == "Bearer tv-key"
    cli = {"testvibe_server": "https://cli.example", "testvibe_project": "p2"}
    source = only_source(settings_from(cli=cli, environ=TESTVIBE_ENV, testvibe=["1"]))
    assert source.api_url == "https://cli.example"
    assert source.provider.status_request("1").path == "/api/v1/ops/projects/p2/runs/1"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        (
            "TESTVIBE_SERVER",
            "--testvibe-run needs the TestVibe server: set --testvibe-server URL (ini "
            "testvibe_server, env TESTVIBE_SERVER). It has no default.",
        ),
        (
            "TESTVIBE_PROJECT",
            "--testvibe-run needs the project the runs belong to: set --testvibe-project ID "
            "(ini testvibe_project, env TESTVIBE_PROJECT) to the project's public id.",
        ),
        ("TESTVIBE_API_KEY", "--testvibe-run needs an API key: set TESTVIBE_API_KEY"),
    ],
)
def test_testvibe_needs_server_project_and_key(missing: str, message: str) -> None:
    environ = {name: value for name, value in TESTVIBE_ENV.items() if name != missing}
    with pytest.raises(SettingsError) as raised:
        settings_from(environ=environ, testvibe=["214"])
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize("run_id", ["abc", "-1", "1.5", "", "²", "1" * 19])
def test_testvibe_run_ids_are_whole_numbers(run_id: str) -> None:
    with pytest.raises(SettingsError, match=r"--testvibe-run .* is not a TestVibe run id"):
        settings_from(environ=TESTVIBE_ENV, testvibe=[run_id])


def test_testvibe_server_gets_the_same_transport_rule() -> None:
    environ = {**TESTVIBE_ENV, "TESTVIBE_SERVER": "http://testvibe.example"}
    with pytest.raises(SettingsError, match=r"--testvibe-server .*plain http"):
        settings_from(environ=environ, testvibe=["214"])


def test_autonoma_settings() -> None:
    source = only_source(settings_from(environ=AUTONOMA_ENV, autonoma=["run1"]))
    assert source.api_url == "https://autonoma.app/api"
    headers = {name: secret.reveal() for name, secret in source.provider.auth_headers().items()}
    assert headers == {"autonoma-client-id": "a-id", "autonoma-client-secret": "a-secret"}
    environ = {**AUTONOMA_ENV, "AUTONOMA_API_URL": "https://eu.autonoma.example/api/"}
    assert only_source(settings_from(environ=environ, autonoma=["r"])).api_url == (
        "https://eu.autonoma.example/api"
    )


@pytest.mark.parametrize("missing", ["AUTONOMA_CLIENT_ID", "AUTONOMA_CLIENT_SECRET"])
def test_autonoma_needs_both_credentials(missing: str) -> None:
    environ = {name: value for name, value in AUTONOMA_ENV.items() if name != missing}
    with pytest.raises(SettingsError, match="AUTONOMA_CLIENT_ID and AUTONOMA_CLIENT_SECRET"):
        settings_from(environ=environ, autonoma=["r"])


def test_runs_may_be_given_labels_for_their_node_ids() -> None:
    settings = settings_from(qatech=["staging=abc123", "def456", "prod = ghi789"])
    assert only_source(settings).run_ids == ("abc123", "def456", "ghi789")
    assert only_source(settings).labels == (("abc123", "staging"), ("ghi789", "prod"))
    assert only_source(settings).label("abc123") == "staging"
    assert only_source(settings).label("def456") is None
    # The same run given the same label twice is one run, so one label.
    again = settings_from(qatech=["staging=abc123", "staging=abc123"])
    assert only_source(again).labels == (("abc123", "staging"),)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            ["a b=abc123"],
            "--qatech-run 'a b=abc123': the label 'a b' is not a name for node ids: expected 1 "
            "to 128 letters, digits, '-' or '_'",
        ),
        (["x=abc123", "x=def456"], "--qatech-run: the label 'x' is given twice"),
        (["x=a=b"], "--qatech-run 'a=b' is not a run short id"),
        (["x=../etc"], "--qatech-run '../etc' is not a run short id"),
    ],
)
def test_a_bad_label_is_a_usage_error(values: list[str], message: str) -> None:
    with pytest.raises(SettingsError, match="^" + re.escape(message)):
        settings_from(qatech=values)


MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("cli", "limits"),
    [
        ({}, (50 * MIB, 500 * MIB)),  # the documented defaults
        ({"qatech_artifacts_max_mib": "5,20"}, (5 * MIB, 20 * MIB)),
        ({"qatech_artifacts_max_mib": " 1 , 2 "}, (MIB, 2 * MIB)),
    ],
)
def test_artifact_limits_are_mib_a_file_and_in_all(
    cli: dict[str, object], limits: tuple[int, int]
) -> None:
    assert settings_from(cli=cli).artifact_limits == limits


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("50", "--qatech-artifacts-max-mib takes two numbers, FILE,TOTAL (as 50,500)"),
        ("1,2,3", "--qatech-artifacts-max-mib takes two numbers, FILE,TOTAL (as 50,500)"),
        (
            "0,5",
            "--qatech-artifacts-max-mib '0,5' is not FILE,TOTAL: whole numbers, 1 or more, "
            "separated by a comma",
        ),
        ("1.5,5", "--qatech-artifacts-max-mib '1.5,5' is not FILE,TOTAL"),
        ("\u0665,5", "--qatech-artifacts-max-mib '\u0665,5' is not FILE,TOTAL"),  # Arabic 5
    ],
)
def test_bad_artifact_limits_are_usage_errors(value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from(cli={"qatech_artifacts_max_mib": value})
    assert str(raised.value).startswith(message)


def test_plain_http_to_another_host_says_why_and_what_is_accepted() -> None:
    with pytest.raises(SettingsError) as raised:
        check_api_url("http://api.qa.tech", "--qatech-api-url")
    assert str(raised.value) == (
        "--qatech-api-url 'http://api.qa.tech' uses plain http to a host that is not this "
        "machine; the API credentials would cross the network unencrypted. Use https (plain "
        "http is accepted only for 127.0.0.0/8, ::1 and localhost)."
    )


def test_only_trailing_slashes_leave_an_api_url() -> None:
    assert check_api_url(" https://proxy.example/apiX// ", "--x") == "https://proxy.example/apiX"


def test_a_lookup_shows_none_of_its_environment() -> None:
    assert repr(Lookup(lambda name: None, lambda name: "", {"QATECH_API_TOKEN": "t0k3n"})) == (
        "Lookup()"
    )


def test_repeatable_options_and_switches_come_from_the_command_line_only() -> None:
    options = {"qatech_plan": [" pln_a ", "", "pln_b", "pln_a"], "qatech_start": True}
    lookup = Lookup(options.get, lambda name: "from ini", {"QATECH_PLAN": "pln_env"})
    assert lookup.values(QATECH_PLAN) == ("pln_a", "pln_b")
    assert lookup.switch(QATECH_START)
    nothing = Lookup(lambda name: None, lambda name: "from ini", {})
    assert (nothing.values(QATECH_PLAN), nothing.switch(QATECH_START)) == ((), False)
    # A setting without an ini key never reads the ini file.
    assert nothing.value(QATECH_PLAN) is None


@pytest.mark.parametrize("value", ["-1", "1.0", "\uff12", "two"])
def test_a_count_is_ascii_digits(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Lookup({"qatech_reruns": value}.get, lambda name: "", {}).count(RERUNS)
    assert str(raised.value) == f"--qatech-reruns must be a whole number, 0 or more, not {value!r}"


def test_an_api_url_not_set_says_so() -> None:
    lookup = Lookup(lambda name: None, lambda name: "", {})
    with pytest.raises(SettingsError, match=r"^--testvibe-server is not set$"):
        lookup.api_url(TESTVIBE_SERVER)


def test_reruns_only_from_command_line_or_ini_and_never_without_details() -> None:
    def which(cli: Mapping[str, str] | None = None, ini: Mapping[str, str] | None = None) -> str:
        provider = only_source(settings_from(cli, ini)).provider
        assert isinstance(provider, QatechProvider)
        return provider.reruns_only

    assert which() == "all"
    assert which(ini={"qatech_reruns_only": "execution"}) == "execution"
    assert which(cli={"qatech_reruns_only": "all"}, ini={"qatech_reruns_only": "execution"}) == (
        "all"
    )
    with pytest.raises(SettingsError, match="--qatech-reruns-only 'some' is not one of all, exec"):
        which(cli={"qatech_reruns_only": "some"})
    with pytest.raises(SettingsError) as raised:
        which(cli={"qatech_reruns_only": "execution", "qatech_details": "none"})
    assert str(raised.value) == (
        "--qatech-reruns-only execution tells an execution miss by the errorCode of the case's "
        "details, which --qatech-details none does not read: use --qatech-details failed (the "
        "default) or all"
    )
    assert which(cli={"qatech_reruns_only": "execution", "qatech_details": "all"}) == "execution"


def resolved_without_credentials(
    cli: Mapping[str, object], ini: Mapping[str, str] | None = None, **requested: Sequence[str]
) -> Settings:
    lookup = Lookup(
        cli.get, lambda name: (ini or {}).get(name, ""), {**TESTVIBE_ENV, **AUTONOMA_ENV}
    )
    return resolve(requested, lookup)


def test_missing_credentials_fail_the_session_unless_told_to_skip() -> None:
    with pytest.raises(SettingsError, match="--qatech-run needs an API token"):
        resolved_without_credentials({}, qatech=["abc123"])
    with pytest.raises(SettingsError, match="--qatech-run needs an API token"):
        resolved_without_credentials({"qatech_missing_token": "fail"}, qatech=["abc123"])
    with pytest.raises(SettingsError, match="'later' is not one of fail, skip"):
        resolved_without_credentials({"qatech_missing_token": "later"}, qatech=["abc123"])


@pytest.mark.parametrize(
    ("cli", "ini"), [({"qatech_missing_token": "skip"}, {}), ({}, {"qatech_missing_token": "skip"})]
)
def test_skip_sets_aside_each_platform_without_its_credentials(
    cli: Mapping[str, object], ini: Mapping[str, str]
) -> None:
    settings = resolved_without_credentials(
        cli, ini, qatech=["abc123", "staging=def456"], testvibe=["214"]
    )
    # TestVibe's key is set: its runs are waited for; QA.tech's token is not.
    assert [source.provider.name for source in settings.sources] == ["testvibe"]
    assert settings.skipped == (
        SkippedSource("qatech", "QATECH_API_TOKEN (or QATECH_API_KEY)", ("abc123", "def456")),
    )


def test_skip_names_only_the_credential_that_is_missing() -> None:
    environ = {"AUTONOMA_CLIENT_ID": "a-id", **TESTVIBE_ENV}
    del environ["TESTVIBE_API_KEY"]
    lookup = Lookup({"qatech_missing_token": "skip"}.get, lambda name: "", environ)
    settings = resolve({"autonoma": ["r1"], "testvibe": ["214"]}, lookup)
    assert settings.sources == ()
    assert [(skipped.provider, skipped.missing) for skipped in settings.skipped] == [
        ("autonoma", "AUTONOMA_CLIENT_SECRET"),
        ("testvibe", "TESTVIBE_API_KEY"),
    ]


def test_skip_starts_nothing_without_a_token() -> None:
    cli = {"qatech_missing_token": "skip", "qatech_plan": ["pln_a"], "qatech_start": True}
    settings = resolved_without_credentials(cli, qatech=[])
    assert settings.start is None
    assert settings.skipped == (
        SkippedSource(
            "qatech",
            "QATECH_API_TOKEN (or QATECH_API_KEY)",
            starts=("the default test plan", "test plan pln_a"),
        ),
    )


def test_skip_is_not_taken_for_a_setting_that_is_wrong() -> None:
    # Only missing credentials are skipped: a mistake in the settings stays a usage error.
    cli = {"qatech_missing_token": "skip", "testvibe_project": "../x"}
    with pytest.raises(SettingsError, match=r"--testvibe-project '\.\./x'"):
        resolved_without_credentials(cli, testvibe=["214"])


def test_the_flaky_limit_is_none_unless_set() -> None:
    assert settings_from().max_flaky is None
    assert settings_from(cli={"qatech_max_flaky": "0"}).max_flaky == 0
    assert settings_from(ini={"qatech_max_flaky": " 3 "}).max_flaky == 3
