#!/bin/sh
# the application logs to logs/microblog.log itself; gunicorn's own logs go to stdout
exec gunicorn -b :5000 --access-logfile - --error-logfile - microblog:app
