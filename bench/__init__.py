"""`make bench`: performance figures against baselines measured in the same run (quality.md §1)."""
