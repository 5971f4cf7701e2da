"""Local data: the DuckDB stand-in for BigQuery (`local`: a spec's rows at a snapshot, `table`:
appends and drops), the data check behind `validate --data` (`check`) and the example data
generators (`samples`)."""
