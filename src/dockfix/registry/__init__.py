"""Container registries: image references, the registry client and its credentials,
the digest cache and the lookups fixers ask for.
"""
