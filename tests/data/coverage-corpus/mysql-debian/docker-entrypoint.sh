#!/bin/bash
exec gosu dbsrv "$@"
