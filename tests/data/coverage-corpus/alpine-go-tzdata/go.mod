module github.com/example/exporter

go 1.21
