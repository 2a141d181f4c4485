"""The command line: typer commands that parse, call one library function, and print (the CLI layer)."""
