"""Log records carry the current correlation id and W3C trace and span ids; production logs are JSON lines.

The ids come from the work's ``MessageContext`` (the request's or the consumed message's): its
``traceparent`` names the span the work runs in, the one its outgoing messages name as their parent, so a
log line can be matched with the trace of the checkout it belongs to, whether tracing is on or not.
"""

import json
import logging

from eventstore import context


def skip_unused_record_fields() -> None:
    """Stop every log record from collecting what no format prints: its caller (a walk up the stack), thread
    and multiprocessing names (the logging HOWTO's "Optimization"; ADR 29). The process id stays: gunicorn's
    own format, which the web workers' uvicorn lines go through, prints ``[%(process)d]``."""
    logging._srcfile = None
    logging.logThreads = logging.logMultiprocessing = False


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context._current.get()
        if ctx is None:
            record.correlation_id = record.trace_id = record.span_id = "-"
        else:
            record.correlation_id = ctx.correlation_id
            parts = ctx.traceparent.split("-")
            record.trace_id, record.span_id = (parts[1], parts[2]) if len(parts) == 4 else ("-", "-")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "-"),
            "trace_id": getattr(record, "trace_id", "-"),
            "span_id": getattr(record, "span_id", "-"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)
