"""The conventions every module's ``api.py`` and ``admin.py`` follow (api.md §1, architecture.md §13).

``rest`` (reading request bodies), ``views`` (``Endpoint``, ``route``, OpenAPI responses), ``errors``
(the one exception handler, the JSON parser, the 404/500 views), ``middleware`` (request context and
log line) and ``admin_commands`` (admins whose forms and actions call domain services). ``web`` may
import ``access`` and ``eventstore``, never a module app or the site (ADR 14).
"""
