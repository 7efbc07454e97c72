#!/bin/bash --login
set -e
conda activate myenv
exec python run.py
