#!/bin/bash
exec grafana server
