#!/bin/bash -e
exec kafka-server-start.sh $KAFKA_HOME/config/server.properties
