"""What a run produces: diffs, reports in every format, fingerprints, baselines, the
settings shown, git commits and pull-request bodies.
"""
