"""`dockfix verify`: building both versions of a Dockerfile, comparing the images and
starting them.
"""
