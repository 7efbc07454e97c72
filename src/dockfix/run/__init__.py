"""A run over many files: configuration (dockfix's and hadolint's), the worker pool,
the transfer of results between processes, and the results cache.
"""
