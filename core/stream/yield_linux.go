package stream

import "syscall"

// osYield gives the processor to another thread (sched_yield): a waiting
// pool goroutine must let the thread it waits for run when the two share
// a core (a loaded machine), which runtime.Gosched does not do.
func osYield() { syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
