#!/bin/bash
mariadb-admin ping
