"""`python -m server`: the embedded model server, with tensorflow_model_server's flags."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import tflog

tflog.quiet()

from server.flags import FlagError, parse_flags, usage, validate, warnings  # noqa: E402

VERSION = "0.1.0"


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

    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    server: ModelServer | None = None
    try:
        server = ModelServer(options)
        server.start()
    except Exception as err:  # every start-up failure is one line, as TF Serving prints it
        message = err.message if isinstance(err, ServingError) else str(err) or type(err).__name__
        print(f"Failed to start server. Error: {message}", file=sys.stderr)
        if server is not None:
            server.stop(grace=0)
        return 255
    stopped.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
