"""Who may call: API tokens, staff roles and the access levels of api.md §2.

``principals`` (role names, the roles of a user, device callers, the actor of a change), ``tokens``
(issuing, revoking and authenticating bearer tokens; staff sessions), ``levels`` (one DRF permission
class per access level), the ``ApiToken`` model and its admin, and the ``issue_token``,
``revoke_token`` and ``setup_roles`` commands. Module apps import ``principals`` and ``levels``;
``access`` imports no module app and not the site (ADR 14).
"""
