#!/bin/sh
cgi-fcgi -bind -connect 127.0.0.1:9000
