"""Unit tests, laid out as ``src/vpnaas`` is: the tests of
``vpnaas/<package>/<module>.py`` live in ``tests/unit/<package>/test_<module>.py``
(``tests/unit/api/test_body.py`` tests ``vpnaas.api.body``; a package's
``__init__`` is ``test_<package>.py``, as ``tests/unit/settings/test_settings.py``),
and the tests of the top-level modules (``cli``, ``wsgi``) sit here beside this
file. A few test modules are named for the behaviour they cover in their
package instead (``test_cli_help.py``, ``rules/test_ipsec_site_connection_peer.py``,
``agent/test_reasons.py``: the reconciler's down reasons), and
``ui/test_vendored.py`` checks the vendored file in ``ui/static``.
``test_docs.py`` is the one module that mirrors no code: it checks that every
citation of ``docs/`` in the repository resolves.

Test ids must not contain ``:`` (an IPv6 value as an automatic parametrize
id, say): gabbi's pytest plugin takes such names for its own and stops the
collection when tests/unit and tests/functional run together."""
