"""The `evolm` command line: one module per subcommand, each a thin layer over a stage."""
