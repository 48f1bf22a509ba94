"""Unit tests, laid out as ``src/vpnaas`` is: the tests of
``vpnaas/<package>/<module>.py`` live in ``tests/unit/<package>/test_<module>.py``
(``tests/unit/api/test_body.py`` tests ``vpnaas.api.body``), and the tests of the
top-level modules (``cli``, ``settings``, ``wsgi``) sit here beside this file.
``test_docs.py`` is the one module that mirrors no code: it checks that every
citation of ``docs/`` in the repository resolves."""
