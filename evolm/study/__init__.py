"""`evolm study`: a grid of runs declared in one YAML file, planned as a DAG of evolm commands whose
shared prefixes run once (`spec` reads the file, `plan` expands it into nodes, `runner` executes
what is missing)."""
