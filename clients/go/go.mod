module litepool.dev/go

go 1.19
