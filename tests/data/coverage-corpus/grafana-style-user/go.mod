module github.com/grafana/grafana

go 1.22
