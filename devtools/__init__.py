"""What the project's tools share (the benchmark, busywork, the tests that start real processes).

Not part of the product: no app, kernel or site code imports it (the kernel's process tests do).
``http`` is the one HTTP/1.1 client of the load tools (ADR 16), ``processes`` starts, watches and
stops child processes with a log file each, ``stats`` holds the one percentile definition.
"""
