module litepool.dev/bench/goload

go 1.19

require litepool.dev/go v0.0.0

replace litepool.dev/go => ../../clients/go
