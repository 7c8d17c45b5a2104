"""The command line of the client library: `python -m clients COMMAND --help`.

args builds the parser, inputs reads JSON and files, commands calls the server, output
formats the results; clients/__main__.py prints them and sets the exit status.
"""
