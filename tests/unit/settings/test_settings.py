"""Configuration: every option reads from a file and flags override it."""

from __future__ import annotations

from pathlib import Path

from vpnaas.settings import load


def test_defaults_load_without_a_file() -> None:
    settings = load()
    assert settings.database_url == "sqlite:///vpnaas.sqlite"
    assert settings.null_driver_settles is True
    assert settings.port == 9696


def test_file_values_and_overrides(tmp_path: Path) -> None:
    conf = tmp_path / "vpnaas.conf"
    conf.write_text(
        "[DEFAULT]\nauth_strategy = keystone\nbind_port = 9797\n"
        "legacy_crypto_algorithms = true\n"
        "[database]\nconnection = sqlite:////tmp/x.sqlite\nmax_pool_size = 9\n"
        "[vpnaas]\nnull_driver_settles = false\npeer_hosts_file = /etc/hosts\n"
        "[topology]\nexternal_network_name = ext\nnetwork_max_mtu = 9000\n"
    )
    settings = load([str(conf)], port=9898, database_url=None)
    assert settings.auth_strategy == "keystone"
    assert settings.port == 9898
    assert settings.legacy_crypto is True
    assert settings.database_url == "sqlite:////tmp/x.sqlite"
    assert settings.pool.max_pool_size == 9
    assert settings.null_driver_settles is False
    assert settings.peer_hosts_file == "/etc/hosts"
    assert settings.seed.name == "ext"
    assert settings.network_max_mtu == 9000


def test_request_threads_follow_the_database_unless_set(tmp_path: Path) -> None:
    assert load().request_threads == 1
    server = "postgresql+psycopg://vpnaas:secret@db/vpnaas"
    assert load(database_url=server).request_threads == 5
    conf = tmp_path / "vpnaas.conf"
    conf.write_text("[DEFAULT]\napi_threads = 3\n[database]\nmax_pool_size = 9\n")
    assert load([str(conf)], database_url=server).request_threads == 3
    assert load([str(conf)], threads=2).request_threads == 2
    conf.write_text("[database]\nmax_pool_size = 9\n")
    assert load([str(conf)], database_url=server).request_threads == 9


def test_response_cache_is_on_unless_turned_off(tmp_path: Path) -> None:
    assert load().response_cache is True
    conf = tmp_path / "vpnaas.conf"
    conf.write_text("[DEFAULT]\nresponse_cache = false\n")
    assert load([str(conf)]).response_cache is False
    assert load(response_cache=False).response_cache is False


def test_metrics_are_off_and_the_access_log_on_unless_configured(tmp_path: Path) -> None:
    defaults = load()
    assert (defaults.metrics.enabled, defaults.access_log) == (False, True)
    assert (defaults.metrics.host, defaults.metrics.port) == ("127.0.0.1", 9698)
    conf = tmp_path / "vpnaas.conf"
    conf.write_text(
        "[DEFAULT]\naccess_log = false\n"
        "[metrics]\nenabled = true\nbind_host = 127.0.0.2\nbind_port = 9999\n"
    )
    settings = load([str(conf)])
    assert (settings.metrics.enabled, settings.access_log) == (True, False)
    assert (settings.metrics.host, settings.metrics.port) == ("127.0.0.2", 9999)
