"""Response documents (``vpnaas.api.render``): a record's visible
attributes, or exactly a ``fields=`` selection, ``tenant_id`` mirroring the
owner, hidden attributes never; paging links (``docs/api/common.md``
§show, §fields, §paging)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from vpnaas.api.query import parse_fields, parse_params
from vpnaas.api.render import item, links, list_layout, strip
from vpnaas.spec import Field, Resource, catalog
from vpnaas.spec.kinds import Str

CAT = catalog()
MEMBERS = [res.member for res in CAT.resources]


def _record(res: Resource) -> dict[str, Any]:
    """A stored record with a distinct value for every attribute, hidden
    ones included (a value never equals another attribute's)."""
    return {fld.name: f"<{res.member}.{fld.name}>" for fld in res.fields}


def _hidden(res: Resource) -> list[str]:
    return [fld.name for fld in res.fields if not fld.visible]


@pytest.mark.parametrize("member", MEMBERS)
def test_render_shows_every_visible_attribute_and_no_hidden_one(member: str) -> None:
    res = CAT[member]
    record = _record(res)
    out = item(res, record)
    assert list(out) == list(res.visible)
    assert not set(out) & set(_hidden(res))
    for name, value in out.items():
        assert value == record["project_id" if name == "tenant_id" else name]


def test_render_hidden_attributes_exist_to_be_kept_out() -> None:
    """The test above would prove nothing if no resource had any."""
    assert set(_hidden(CAT["router"])) >= {"gw_network_id", "enable_snat"}
    assert "status_reason" in _hidden(CAT["ipsec_site_connection"])


@pytest.mark.parametrize(
    ("qs", "keys"),
    [
        pytest.param("fields=name&fields=id", ["name", "id"], id="order-asked"),
        pytest.param("fields=id&fields=name&fields=id", ["id", "name"], id="no-duplicates"),
        pytest.param("fields=tenant_id", ["tenant_id"], id="tenant-alone"),
        pytest.param("fields=project_id&fields=tenant_id", ["project_id", "tenant_id"], id="both"),
        pytest.param("fields=status_reason", [], id="hidden-is-ignored"),
        pytest.param("fields=status_reason&fields=psk", ["psk"], id="hidden-among-visible"),
        pytest.param("fields=nope&fields=name", ["name"], id="unknown-is-ignored"),
    ],
)
def test_render_a_fields_selection(qs: str, keys: list[str]) -> None:
    res = CAT["ipsec_site_connection"]
    record = _record(res)
    fields = parse_fields(res, parse_params(qs))
    out = item(res, record, fields)
    assert list(out) == keys
    assert all(out[k] == record["project_id" if k == "tenant_id" else k] for k in keys)


def test_render_hidden_router_attributes_stay_out_of_any_selection() -> None:
    res = CAT["router"]
    qs = "fields=gw_network_id&fields=enable_snat&fields=external_gateway_info"
    out = item(res, _record(res), parse_fields(res, parse_params(qs)))
    assert list(out) == ["external_gateway_info"]


def test_render_skips_attributes_the_record_lacks() -> None:
    """A read that selected some columns renders just those."""
    res = CAT["ikepolicy"]
    assert item(res, {"id": "x", "name": "n"}) == {"id": "x", "name": "n"}
    assert item(res, {"id": "x"}, ("name", "id")) == {"id": "x"}


def test_render_echoes_composites_as_sent_over_stored_values() -> None:
    res = CAT["ikepolicy"]
    record = {**_record(res), "lifetime": {"units": "seconds", "value": 2000}}
    echo = {"lifetime": {"units": "seconds", "value": "2000"}, "not_shown": 1}
    out = item(res, record, ("id", "lifetime"), echo=echo)
    assert out == {"id": record["id"], "lifetime": {"units": "seconds", "value": "2000"}}
    # an echo never adds a key the selection left out
    assert "lifetime" not in item(res, record, ("id",), echo=echo)


def test_render_repeated_answers_equal_fresh_ones() -> None:
    """The per-selection key list is cached: the same selection, as a list
    or a tuple, and another resource's same selection answer as fresh."""
    ike, ipsec = CAT["ikepolicy"], CAT["ipsecpolicy"]
    first = item(ike, _record(ike), ["id", "name"])
    assert item(ike, _record(ike), ("id", "name")) == first
    assert item(ipsec, _record(ipsec), ("id", "name")) == {
        "id": "<ipsecpolicy.id>",
        "name": "<ipsecpolicy.name>",
    }
    # a resource declared later (a new Resource object) gets its own keys
    extra = Resource(
        member="thing",
        collection="things",
        path="/things",
        not_found="ThingNotFound",
        extension="things",
        fields=(Field(name="id", kind=Str(36)), Field(name="colour", kind=Str(10))),
    )
    assert item(extra, {"id": "t", "colour": "red", "name": "n"}) == {"id": "t", "colour": "red"}


BASE = "http://vpn.test/v2.0/vpn/ikepolicies"


def _links(
    qs: str, page_ids: list[str], limit: int, reverse: bool
) -> dict[str, list[tuple[str, str]]]:
    page = [{"id": i} for i in page_ids]
    found = links(CAT["ikepolicy"], BASE, parse_params(qs), page, limit, reverse)
    out = {}
    for link in found:
        url = urlsplit(link["href"])
        assert f"{url.scheme}://{url.netloc}{url.path}" == BASE
        out[link["rel"]] = parse_qsl(url.query)
    return out


def test_render_links_of_a_full_page_go_both_ways_marker_last() -> None:
    got = _links("limit=2&name=a&marker=old&sort_key=name", ["m1", "m2"], 2, reverse=False)
    kept = [("limit", "2"), ("name", "a"), ("sort_key", "name")]
    assert got == {
        "next": [*kept, ("marker", "m2")],
        "previous": [*kept, ("marker", "m1"), ("page_reverse", "True")],
    }


@pytest.mark.parametrize(
    ("reverse", "rels"),
    [pytest.param(False, ["previous"], id="forward"), pytest.param(True, ["next"], id="reversed")],
)
def test_render_links_of_a_short_page_stop_at_the_end(reverse: bool, rels: list[str]) -> None:
    qs = "limit=3&page_reverse=True" if reverse else "limit=3"
    assert list(_links(qs, ["m1"], 3, reverse)) == rels


def test_render_links_of_an_empty_page_carry_no_marker() -> None:
    got = _links("limit=2&marker=gone", [], 2, reverse=False)
    assert got == {"previous": [("limit", "2"), ("page_reverse", "True")]}


def test_render_leaves_out_what_an_object_does_not_hold() -> None:
    """A read narrowed by ``fields=`` holds only some attributes: the wire
    form has those, in the asked order, and no key for the rest."""
    res = CAT["ipsec_site_connection"]
    record = {"id": "i", "project_id": "p", "name": "n"}
    assert item(res, record, ["name", "description", "tenant_id", "id"]) == {
        "name": "n",
        "tenant_id": "p",
        "id": "i",
    }
    assert list(item(res, record, ["name", "description", "tenant_id", "id"])) == [
        "name",
        "tenant_id",
        "id",
    ]
    assert item(res, record, []) == {}


@pytest.mark.parametrize("member", MEMBERS)
def test_a_list_layout_stripped_is_what_item_renders(member: str) -> None:
    """A list read straight into its wire form (``list_layout``), once what
    is not shown is stripped (hidden attributes, and a key a loader added
    on its own), is the dict :func:`item` makes of the object."""
    res = CAT[member]
    record = _record(res)
    layout = list_layout(res)
    assert [key for key, _ in layout][: len(res.visible)] == list(res.visible)
    assert {name for _, name in layout[len(res.visible) :]} <= set(_hidden(res))
    read = {key: record[name] for key, name in layout}
    read["network:loaded-by-the-way"] = "x"
    (got,) = strip(res, [read])
    assert list(got.items()) == list(item(res, record).items())


def _hidden_read(member: str) -> set[str]:
    res = CAT[member]
    return {name for _, name in list_layout(res)[len(res.visible) :]}


def test_a_list_layout_reads_hidden_attributes_only_for_policy_and_loaders() -> None:
    """Connections read none (no loader, no read rule looks at
    ``status_reason``); routers their gateway columns, which the computed
    ``external_gateway_info`` is made of; subnets and ports the network's
    attributes their read rules look at."""
    assert _hidden_read("ipsec_site_connection") == set()
    assert _hidden_read("router") == {"gw_network_id", "enable_snat"}
    assert _hidden_read("port") == {"network:project_id"}
    assert set(CAT["subnet"].policy.target_fields) <= _hidden_read("subnet")
