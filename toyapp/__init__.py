"""The kernel's example module app: a toy aggregate, publisher, consumer, command handler and saga.

It exercises ``eventstore`` the way a module app does, without any module's rules. Kernel tests install
it through ``mallbots_site.settings_test`` and the benchmarks through ``bench.settings``; the project's
own settings never do.
"""
