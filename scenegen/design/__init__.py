"""Combinatorial designs over factor levels: the coverage tracker, covering arrays, directive
plans, held-out splits and directive hit rates. Pure computation: no files, no rendering."""
