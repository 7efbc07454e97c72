"""What a Dockerfile means: shell scripts, variables, stages, working directory and user
at an instruction, the build context and its .dockerignore, and the per-tree memo.
"""
