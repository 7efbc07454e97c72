"""Files on disk: reading and writing a Dockerfile, finding Dockerfiles under a path,
recording what a check read (for the results cache).
"""
