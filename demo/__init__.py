"""The demo: export, serve on the embedded server, send real predictions over REST and gRPC."""
