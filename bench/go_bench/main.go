// bench/go_bench -- the official Go SDK peer for M1: N command streams at
// once, one goroutine each, against the benchmark's nginx; events counted in
// the handlers. Built by bench/run.py only when BENCH_GO_SDK names a checkout
// of github.com/alibaba/OpenSandbox/sdks/sandbox/go (no download).
//
//	go_bench URL m1 N
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	opensandbox "github.com/alibaba/OpenSandbox/sdks/sandbox/go"
)

func cpu() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func main() {
	if len(os.Args) < 4 || os.Args[2] != "m1" {
		fmt.Fprintln(os.Stderr, "usage: go_bench URL m1 N")
		os.Exit(2)
	}
	n, _ := strconv.Atoi(os.Args[3])
	ctx := context.Background()
	cfg := opensandbox.ConnectionConfig{Domain: strings.TrimPrefix(os.Args[1], "http://"), Protocol: "http",
		APIKey: "bench", RequestTimeout: 600 * time.Second}
	sb, err := opensandbox.ConnectSandbox(ctx, cfg, "small")
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	var events atomic.Int64
	var failed atomic.Int32
	count := func(opensandbox.OutputMessage) error { events.Add(1); return nil }
	t0, c0 := time.Now(), cpu()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &opensandbox.ExecutionHandlers{OnStdout: count, OnStderr: count, SkipAccumulation: true,
				OnInit:     func(opensandbox.ExecutionInit) error { events.Add(1); return nil },
				OnComplete: func(opensandbox.ExecutionComplete) error { events.Add(1); return nil }}
			if _, err := sb.RunCommand(ctx, "cat /var/log/build.log", h); err != nil {
				fmt.Fprintln(os.Stderr, "run:", err)
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		os.Exit(1)
	}
	fmt.Printf("wall_s=%.6f cpu_s=%.6f units=%d streams=%d\n", time.Since(t0).Seconds(), cpu()-c0, events.Load(), n)
}
