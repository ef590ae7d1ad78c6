"""Shipped files are read from the package folder, and through importlib.resources where the
package is not on disk (a zip import): both give the same bytes."""

from __future__ import annotations

from unittest import mock

import pytest

from infra_advisor import package_data


@pytest.mark.parametrize(
    ("package", "parts"),
    [("infra_advisor.data", ("chips.toml",)), ("infra_advisor", ("presets", "llama-8b-chat.toml"))],
)
def test_direct_and_resources_reads_agree(package: str, parts: tuple[str, ...]) -> None:
    direct = package_data.read_bytes(package, *parts)
    with mock.patch.object(package_data, "_folder", return_value=None):
        through = package_data.read_bytes(package, *parts)
    assert direct is not None and direct == through


def test_listing_and_missing_files() -> None:
    names = package_data.names("infra_advisor", "presets")
    with mock.patch.object(package_data, "_folder", return_value=None):
        assert package_data.names("infra_advisor", "presets") == names
        assert package_data.read_bytes("infra_advisor.data", "nope.toml") is None
    assert "llama-8b-chat.toml" in names
    assert package_data.read_bytes("infra_advisor.data", "nope.toml") is None
    assert package_data.read_bytes("infra_advisor", "presets") is None  # a folder, not a file


def test_only_the_two_shipping_packages() -> None:
    with pytest.raises(ValueError):
        package_data.read_bytes("os", "x")
