"""The vocabulary of a resource declaration: :class:`Field` and :class:`Resource`.

A resource is a tuple of fields plus its names. Everything else in vpnaas
(body checks, filters, sorting, ``fields=``, tables, routes, policy rules) is
derived from these two classes; see the properties of :class:`Resource`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from vpnaas.spec.kinds import Kind, Name, Str, Uuid
from vpnaas.spec.structured import ListOf

__all__ = [
    "COMPUTED",
    "OWNER",
    "OWNER_ALIAS",
    "REQUIRED",
    "Action",
    "Field",
    "Policy",
    "Resource",
    "common_fields",
    "description_field",
    "id_field",
    "name_field",
    "owner_field",
]


class _Required:
    """Sentinel: the attribute must be supplied on create."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class _Computed:
    """Sentinel: when absent on create, the resource's rules compute the value."""

    def __repr__(self) -> str:
        return "COMPUTED"


COMPUTED: Any = _Computed()


@dataclass(frozen=True, kw_only=True)
class Field:
    """One attribute of a resource.

    Attributes:
        name: the wire name.
        kind: what values look like and how they are stored.
        default: the create-time default (``REQUIRED`` if the client must send
            it); for attributes the client cannot send, the server's initial
            value. Neutron: ``default``.
        create: may be sent on create (Neutron: ``allow_post``).
        update: may be sent on update (``allow_put``).
        visible: returned in responses (``is_visible``).
        filter: usable as a list filter (``is_filter``); ``None`` follows the kind.
        sort: usable as ``sort_key`` (``is_sort_key``).
        secret: the ``psk``: sealed at rest when keys are configured and
            found by its digest (:mod:`vpnaas.db.secrets`), its value never
            echoed in an error message nor written to the access log.
        stored: kept in a column of the resource's table; ``False`` for values
            computed from other tables.
        enforce_policy: extra policy rules for writes of this attribute
            (``enforce_policy``): pairs of a sub-key (``""`` for the attribute
            itself) and a check string name; the rule is
            ``<action>_<member>:<name>[:<sub-key>]``. On create the attribute
            rule applies when the value differs from the default, on update
            whenever it is sent; a sub-key rule applies when the key is sent.
        index: the column gets an index of its own (sort keys and references
            always do).
    """

    name: str
    kind: Kind
    default: Any = REQUIRED
    create: bool = True
    update: bool = True
    visible: bool = True
    filter: bool | None = None
    sort: bool = False
    secret: bool = False
    stored: bool = True
    enforce_policy: tuple[tuple[str, str], ...] = ()
    index: bool = False

    @property
    def required(self) -> bool:
        return self.create and self.default is REQUIRED

    @property
    def filterable(self) -> bool:
        return self.kind.filterable if self.filter is None else self.filter

    @property
    def ref(self) -> str | None:
        """The member name of the resource this field points at, if any."""
        kind = self.kind.item if isinstance(self.kind, ListOf) else self.kind
        return kind.ref if isinstance(kind, Uuid) else None

    @property
    def in_child_table(self) -> bool:
        return self.kind.stored_as_rows


@dataclass(frozen=True, kw_only=True)
class Policy:
    """The default check strings of a resource's four rules.

    Each value names a building block of :mod:`vpnaas.policy.defaults`
    (e.g. ``"ADMIN_OR_PROJECT_MEMBER"``) or is a literal check string.
    """

    create: str = "ADMIN_OR_PROJECT_MEMBER"
    get: str = "ADMIN_OR_PROJECT_MEMBER"
    update: str = "ADMIN_OR_PROJECT_MEMBER"
    delete: str = "ADMIN_OR_PROJECT_MEMBER"
    legacy_create: str = "rule:regular_user"
    legacy_other: str = "rule:admin_or_owner"
    #: attributes (besides the owner) a read rule may look at; read checks get
    #: exactly these, so one answer serves every object that shares them
    target_fields: tuple[str, ...] = ()


#: the owner column; ``tenant_id`` is its mirror on the wire.
OWNER = "project_id"
OWNER_ALIAS = "tenant_id"


@dataclass(frozen=True, eq=False)
class Action:
    """A member action, ``PUT <path>/{id}/<name>``: its bare (unwrapped)
    request body and its answer as JSON schemas (for the API's contract), and
    which body keys take the id of which resource."""

    name: str
    body: Mapping[str, Any]
    answer: Mapping[str, Any]
    refs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class Resource:
    """A REST collection and what its members are.

    Attributes:
        member: singular JSON key and policy suffix (``ikepolicy``).
        collection: plural JSON key (``ikepolicies``); also the table name.
        path: URL of the collection below ``/v2.0`` (``/vpn/ikepolicies``).
        fields: the attributes, in Neutron's attribute-map order (errors are
            reported in this order).
        not_found: public type of the error for an unknown id.
        extension: alias of the extension that brings the resource.
        policy: default policy rules.
        writable: create/update/delete are served (``False``: 405).
        creatable: create is served when writable (``False``: 405 for
            objects that appear by other means, such as agents).
        filter_aliases: extra filter names and the attribute each stands for.
        extra_filters: filters that are not attributes (a rule module builds
            their condition), with the kind that parses their values.
        member_actions: member actions (``PUT <path>/{id}/<action>``); each
            is also a policy rule of that name, ``ADMIN_OR_PROJECT_MEMBER`` by
            default, and a route whose handler the application registers.
        views: read-only sub-resources (``GET <path>/{id}/<view>``), shown to
            whoever may show the member (``get_<member>``).
        extra_rules: further policy rules a view checks: (name, view, check
            string or building block, what the rule allows).
    """

    member: str
    collection: str
    path: str
    fields: tuple[Field, ...]
    not_found: str
    extension: str
    policy: Policy = Policy()
    writable: bool = True
    creatable: bool = True
    filter_aliases: tuple[tuple[str, str], ...] = ()
    extra_filters: tuple[tuple[str, Kind], ...] = ()
    member_actions: tuple[Action, ...] = ()
    views: tuple[str, ...] = ()
    extra_rules: tuple[tuple[str, str, str, str], ...] = ()

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        assert len(names) == len(set(names)), f"duplicate field in {self.member}"
        assert names[0] == "id", f"{self.member}: id must come first"

    @cached_property
    def actions(self) -> tuple[str, ...]:
        """The names of the member actions."""
        return tuple(action.name for action in self.member_actions)

    @cached_property
    def by_name(self) -> dict[str, Field]:
        """Fields by wire name, ``tenant_id`` included as the owner's mirror."""
        found = {f.name: f for f in self.fields}
        if OWNER in found:
            found[OWNER_ALIAS] = found[OWNER]
        return found

    @property
    def owned(self) -> bool:
        return OWNER in self.by_name

    @cached_property
    def wire_names(self) -> tuple[str, ...]:
        """Every attribute name a body or response may carry."""
        names = [f.name for f in self.fields]
        if self.owned:
            names.insert(names.index(OWNER), OWNER_ALIAS)
        return tuple(names)

    @cached_property
    def visible(self) -> tuple[str, ...]:
        return tuple(n for n in self.wire_names if self.by_name[n].visible)

    @cached_property
    def filters(self) -> frozenset[str]:
        """Every accepted filter name: attributes, aliases and extra filters."""
        names = {n for n in self.wire_names if self.by_name[n].filterable}
        names.update(alias for alias, _ in self.filter_aliases)
        names.update(name for name, _ in self.extra_filters)
        return frozenset(names)

    @cached_property
    def sort_keys(self) -> frozenset[str]:
        return frozenset(n for n in self.wire_names if self.by_name[n].sort)

    @cached_property
    def stored(self) -> tuple[Field, ...]:
        """Fields kept in the resource's own table."""
        return tuple(f for f in self.fields if f.stored and not f.in_child_table)

    @cached_property
    def child_tables(self) -> tuple[Field, ...]:
        """Fields kept in child tables, one row per list item."""
        return tuple(f for f in self.fields if f.stored and f.in_child_table)

    def field(self, name: str) -> Field:
        return self.by_name[name]


def owner_field(*, sort: bool = True) -> Field:
    """The owner attribute every project-owned resource declares."""
    return Field(name=OWNER, kind=Str(255), default=COMPUTED, update=False, sort=sort, index=True)


def id_field(*, sort: bool = True) -> Field:
    """The server-generated UUID primary key."""
    return Field(name="id", kind=Uuid(), default=None, create=False, update=False, sort=sort)


def name_field(*, sort: bool = True) -> Field:
    return Field(name="name", kind=Name(255), default="", sort=sort, index=sort)


def description_field() -> Field:
    return Field(name="description", kind=Str(255), default="")


def common_fields(*, sort: bool = True) -> tuple[Field, ...]:
    """``id``, the owner, ``name`` and ``description``, as every resource has."""
    return (id_field(sort=sort), owner_field(sort=sort), name_field(sort=sort), description_field())
