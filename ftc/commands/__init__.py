"""One module per CLI verb.

Each module defines NAME, HELP, EPILOG (a worked example), `register(parser)`
to add its arguments, and `run(args) -> int` returning the exit code.
Modules import heavy libraries only inside `run`, so `ftc --help` stays fast.
"""
