#!/bin/sh
exec su-exec pgdb "$@"
