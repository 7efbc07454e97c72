#!/bin/bash -e
wget -q "https://archive.apache.org/dist/kafka/${KAFKA_VERSION}/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.tgz" -O "/tmp2/kafka_${SCALA_VERSION}-${KAFKA_VERSION}.tgz"
