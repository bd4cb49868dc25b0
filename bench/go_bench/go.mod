module osbbench/gobench

go 1.20

require github.com/alibaba/OpenSandbox/sdks/sandbox/go v0.0.0
