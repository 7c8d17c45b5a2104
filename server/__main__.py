"""`python -m server`: the embedded model server, with tensorflow_model_server's flags."""

from __future__ import annotations

import logging
import queue
import signal
import sys
import threading

import tflog

tflog.quiet()

from server.flags import FlagError, parse_flags, usage, validate, warnings  # noqa: E402

VERSION = "0.1.0"
STOP, STARTED = "stop", "started"
# After a signal during start-up, how long to let a load attempt under way finish (a retry's
# wait ends at once) before the process exits anyway.
STARTUP_STOP_WAIT_S = 10.0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        options = parse_flags(sys.argv[1:] if argv is None else argv)
        if options.show_help:
            print(usage())
            return 0
        if options.show_version:
            import tensorflow as tf

            print(
                f"TensorFlow ModelServer: {VERSION}-embedded\nTensorFlow Library: {tf.__version__}"
            )
            return 0
        validate(options)
    except FlagError as err:
        print(f"error: {err}\n\nRun with --help for the list of flags.", file=sys.stderr)
        return 2
    for message in warnings(options):
        logging.getLogger("server").warning("%s", message)

    from server.app import ModelServer
    from server.errors import ServingError

    # Signal handlers only put a word in this queue (SimpleQueue.put is reentrant, safe in a
    # handler); the main thread waits on it while a startup thread loads the models, so a
    # SIGTERM during start-up (load retries included) is seen at once.
    events: queue.SimpleQueue[str] = queue.SimpleQueue()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: events.put(STOP))
    server: ModelServer | None = None
    failure: list[Exception] = []

    def start() -> None:
        assert server is not None
        try:
            server.start()
        except Exception as err:  # reported by the main thread
            failure.append(err)
        finally:
            events.put(STARTED)

    try:
        server = ModelServer(options)
    except Exception as err:
        failure.append(err)
    else:
        starter = threading.Thread(target=start, name="startup", daemon=True)
        starter.start()
        if events.get() == STOP:
            log = logging.getLogger("server")
            log.info("stopping: a signal came during start-up")
            server.repository.stop_loading()  # the startup wait ends, retries stop
            starter.join(STARTUP_STOP_WAIT_S)
            server.stop(grace=0)
            return 0
    if failure:  # every start-up failure is one line, as TF Serving prints it
        error = failure[0]
        message = (
            error.message if isinstance(error, ServingError) else str(error) or type(error).__name__
        )
        print(f"Failed to start server. Error: {message}", file=sys.stderr)
        if server is not None:
            server.stop(grace=0)
        return 255
    assert server is not None
    while events.get() != STOP:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
